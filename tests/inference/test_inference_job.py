"""One inference job on the CPU with a small untrained model and 20 random images."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
import torchvision
from PIL import Image
from run_files import cpu_request

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.data.test_set import images_digest
from cifar_zeroshot.inference import host_memory, job
from cifar_zeroshot.inference.host_memory import traced_bytes_per_image
from cifar_zeroshot.inference.job import run_inference
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.records.logits import read_logits, read_timing

MODEL = "mobilenet_v3_small"  # small and fast on a CPU; untrained (weights none)
N_IMAGES = 20
BATCH = 8  # 8 + 8 + 4: the last batch is padded to 8
FACT_KEYS = {
    "model", "weights", "variant", "precision", "compile", "preprocess", "preprocess_spec",
    "device", "device_name", "gpu_index", "torch_version", "torchvision_version", "batch_size",
    "batch_size_requested", "image_count", "dataset", "threads", "limit", "test_set_sha256",
    "parameters", "gflops_per_image", "weights_sha256", "complexity_error", "memory_format",
}  # fmt: skip
# The keys the timing files store (metrics and bench/workflow_timing.py read them).
SUMMARY_KEYS = {
    "images_per_second", "end_to_end_images_per_second", "ms_per_image", "latency_p50_ms",
    "latency_p90_ms", "latency_p99_ms", "timed_images", "timed_batches", "warmup_batches",
    "model_load_seconds", "compile_seconds", "batch_size", "batch_size_requested", "oom_retries",
    "torch_peak_allocated_bytes", "torch_peak_reserved_bytes", "nvml_process_bytes",
    "host_peak_rss_bytes", "startup_seconds", "gpu_energy_joules",
}  # fmt: skip
# Config-fed: the config schema holds their defaults, so the request must have none.
CONFIG_FED = {
    "limit", "batch_size", "device", "threads", "warmup_batches", "gpu_lock_dir",
    "gpu_wait_seconds",
}  # fmt: skip


@pytest.fixture(scope="module")
def test_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("data") / "test_set.npz"
    images = rng.integers(0, 256, (N_IMAGES, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(N_IMAGES) % 10).astype(np.uint8)
    np.savez(path, images=images, labels=labels)
    return path


def _request(test_set: Path, out: Path, **changes) -> InferenceRequest:
    return dataclasses.replace(cpu_request(MODEL, test_set, out, batch_size=BATCH), **changes)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _stored_json(path: Path, key: bytes) -> dict:
    return json.loads(pq.read_schema(path).metadata[key])


def test_config_fed_fields_have_no_defaults() -> None:
    fields = {field.name: field for field in dataclasses.fields(InferenceRequest)}
    assert set(fields) >= CONFIG_FED
    for name in CONFIG_FED:
        assert fields[name].default is dataclasses.MISSING, name


def test_writes_logits_and_timing_with_facts_and_summary(test_set: Path, tmp_path: Path) -> None:
    request = _request(test_set, tmp_path)
    outcome = run_inference(request)

    logits = read_logits(request.logits_path)
    np.testing.assert_array_equal(logits.image_index, np.arange(N_IMAGES))
    np.testing.assert_array_equal(logits.labels, np.arange(N_IMAGES) % 10)
    assert logits.logits.shape == (N_IMAGES, 1000)
    # The files keep the keys they have always had (weights_sha256: a user's weights file's).
    assert set(_stored_json(request.logits_path, b"cifar_zeroshot")) == FACT_KEYS
    assert set(_stored_json(request.timing_path, b"cifar_zeroshot")) == FACT_KEYS
    assert set(_stored_json(request.timing_path, b"cifar_zeroshot_summary")) == SUMMARY_KEYS
    facts = logits.facts
    assert facts.image_count == N_IMAGES
    assert facts.weights == "none"
    assert (facts.device, facts.gpu_index) == ("cpu", None)
    assert facts.batch_size == facts.batch_size_requested == BATCH
    assert facts.preprocess_spec["resize_size"] == 256
    # torchvision publishes 2,542,856 parameters and 0.057 GMACs (224 x 224) for this model.
    assert facts.parameters == 2_542_856
    assert facts.gflops_per_image is not None and round(facts.gflops_per_image / 2, 3) == 0.057
    stored = np.load(test_set)
    assert facts.test_set_sha256 == images_digest(stored["images"], stored["labels"])

    timing = read_timing(request.timing_path)
    assert timing.facts == logits.facts == outcome.facts
    assert timing.summary == outcome.summary
    rows = timing.batches
    assert list(rows["warmup"]) == [True, False, False, False]
    assert list(rows["batch_index"]) == [0, 0, 1, 2]
    assert list(rows["images"]) == [8, 8, 8, 4]
    assert set(rows["padded_images"]) == {BATCH}
    summary = timing.summary
    assert (summary.timed_images, summary.timed_batches) == (N_IMAGES, 3)
    assert summary.warmup_batches == 1
    timed_seconds = rows.loc[~rows["warmup"], "total_seconds"].sum()
    assert summary.images_per_second == pytest.approx(N_IMAGES / timed_seconds)
    # End to end also waits for the Parquet file, so it can only be slower than the loop.
    assert 0 < summary.end_to_end_images_per_second <= summary.images_per_second * 1.0001
    assert summary.oom_retries == 0 and summary.compile_seconds is None
    assert summary.torch_peak_allocated_bytes is None  # CPU
    assert summary.nvml_process_bytes is None
    assert summary.host_peak_rss_bytes > 0
    assert summary.gpu_energy_joules is None  # no GPU: empty, never a guess
    assert summary.startup_seconds > 0  # this test process started before the job's work


def test_two_runs_give_identical_logits_and_plain_torchvision_agrees(
    test_set: Path, tmp_path: Path
) -> None:
    first = _request(test_set, tmp_path / "a")
    second = _request(test_set, tmp_path / "b")
    run_inference(first)
    run_inference(second)
    ours = read_logits(first.logits_path).logits
    np.testing.assert_array_equal(ours, read_logits(second.logits_path).logits)

    # The same images through torchvision's own transforms on PIL images, one batch.
    model = load_model(MODEL, None)  # untrained: the same fixed-seed initialisation
    # ResNet50 V1's preset is torchvision's default (resize 256, crop 224), as for weights none.
    transform = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.transforms()
    images = np.load(test_set)["images"]
    batch = torch.stack([transform(Image.fromarray(image)) for image in images])
    with torch.inference_mode():
        reference = model(batch).numpy()
    # Inputs differ by PIL's uint8 rounding (test_preprocess); outputs by a small fraction of
    # the logits' spread, and the ranking of the classes is nearly the same.
    spread = reference.std()
    assert np.abs(ours - reference).max() < 0.05 * spread
    agreement = np.mean(ours.argmax(1) == reference.argmax(1))
    assert agreement >= 0.9


class _Poisoned(torch.nn.Module):
    """Wraps a model; the forward call number ``bad_call`` returns NaN logits."""

    def __init__(self, inner: torch.nn.Module, bad_call: int) -> None:
        super().__init__()
        self.inner = inner
        self.bad_call = bad_call
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        y = self.inner(x)
        if self.calls == self.bad_call:
            y = y.clone()
            y[3, 17] = float("nan")
        return y


def test_nan_logits_name_model_variant_and_batch_and_write_nothing(
    test_set: Path, tmp_path: Path
) -> None:
    request = _request(test_set, tmp_path)
    # Call 1 is the warm-up, call 2 batch 0, call 3 batch 1 (images 8..15).
    loader = lambda name, weights: _Poisoned(load_model(name, weights), bad_call=3)  # noqa: E731
    with pytest.raises(UserError, match=rf"{MODEL} \(fp32\).*batch 1.*first image index 8"):
        run_inference(request, model_loader=loader)
    assert _files(tmp_path) == []


class _WithRank5(torch.nn.Module):
    """Wraps a model and holds a rank-5 parameter, as timm's lambda layers do."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.lambda_weight = torch.nn.Parameter(torch.zeros(1, 1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) + self.lambda_weight.sum()


def test_a_model_with_rank_5_tensors_runs_in_its_own_memory_format(
    test_set: Path, tmp_path: Path
) -> None:
    plain_request = _request(test_set, tmp_path / "plain")
    assert run_inference(plain_request).facts.memory_format == "channels_last"  # CPU default
    models: list[_WithRank5] = []

    def loader(name, weights):
        models.append(_WithRank5(load_model(name, weights)))
        return models[-1]

    request = _request(test_set, tmp_path / "rank5")
    outcome = run_inference(request, model_loader=loader)
    assert outcome.facts.memory_format == "contiguous"
    assert read_logits(request.logits_path).facts.memory_format == "contiguous"
    conv = next(m for m in models[0].modules() if isinstance(m, torch.nn.Conv2d) and m.groups == 1)
    assert not conv.weight.is_contiguous(memory_format=torch.channels_last)
    # The same untrained weights in either format: the same logits, to float rounding.
    np.testing.assert_allclose(
        read_logits(request.logits_path).logits,
        read_logits(plain_request.logits_path).logits,
        rtol=1e-4,
        atol=1e-4,
    )


class _SmallMemory(torch.nn.Module):
    """Pretends the GPU runs out of memory for batches larger than ``fits``."""

    def __init__(self, inner: torch.nn.Module, fits: int) -> None:
        super().__init__()
        self.inner = inner
        self.fits = fits
        self.shapes: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(x.shape[0])
        if x.shape[0] > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.inner(x)


def test_out_of_memory_halves_the_batch_size(test_set: Path, tmp_path: Path) -> None:
    models: list[_SmallMemory] = []

    def loader(name, weights):
        models.append(_SmallMemory(load_model(name, weights), fits=3))
        return models[-1]

    request = _request(test_set, tmp_path, batch_size=12)
    outcome = run_inference(request, model_loader=loader)

    assert models[0].shapes[:3] == [12, 6, 3]  # 12 and 6 fail, 3 fits
    assert set(models[0].shapes[2:]) == {3}
    summary = read_timing(request.timing_path).summary
    assert (summary.batch_size, summary.batch_size_requested) == (3, 12)
    assert summary.oom_retries == 2
    assert outcome.facts.batch_size == 3
    logits = read_logits(request.logits_path)
    np.testing.assert_array_equal(logits.image_index, np.arange(N_IMAGES))
    assert (logits.facts.batch_size, logits.facts.batch_size_requested) == (3, 12)

    # Nothing fits at all: a UserError, and no file.
    never = lambda name, weights: _SmallMemory(load_model(name, weights), fits=0)  # noqa: E731
    empty = tmp_path / "never"
    with pytest.raises(UserError, match="even with batch size 1"):
        run_inference(_request(test_set, empty, batch_size=2), model_loader=never)
    assert _files(empty) == []


def test_cuda_without_a_gpu_is_a_user_error(
    test_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with pytest.raises(UserError, match="'cuda'.*no CUDA GPU.*'auto' or 'cpu'"):
        run_inference(_request(test_set, tmp_path, device="cuda"))
    assert _files(tmp_path) == []


def test_limit_takes_the_first_images_and_too_large_a_limit_is_refused(
    test_set: Path, tmp_path: Path
) -> None:
    with pytest.raises(UserError, match=f"limit 21 is more than the {N_IMAGES} images"):
        run_inference(_request(test_set, tmp_path, limit=N_IMAGES + 1))
    request = _request(test_set, tmp_path, limit=5, warmup_batches=0)
    run_inference(request)
    logits = read_logits(request.logits_path)
    np.testing.assert_array_equal(logits.image_index, np.arange(5))
    assert logits.facts.limit == 5 and logits.facts.image_count == 5
    stored = np.load(test_set)  # the digest is of the images scored, after the limit
    assert logits.facts.test_set_sha256 == images_digest(stored["images"][:5], stored["labels"][:5])
    assert read_timing(request.timing_path).summary.warmup_batches == 0


def test_a_batch_larger_than_the_test_set_is_one_batch_of_the_test_set(
    test_set: Path, tmp_path: Path
) -> None:
    # Padded to the requested size, 100,000 rows would fill the host's memory for 20 images.
    request = _request(test_set, tmp_path, batch_size=100_000, limit=12)
    outcome = run_inference(request)
    rows = read_timing(request.timing_path).batches
    assert list(rows["images"]) == [12, 12] and set(rows["padded_images"]) == {12}
    assert (outcome.facts.batch_size, outcome.facts.batch_size_requested) == (12, 100_000)
    assert (outcome.summary.batch_size, outcome.summary.batch_size_requested) == (12, 100_000)
    assert read_logits(request.logits_path).facts == outcome.facts


def test_a_cpu_batch_that_would_not_fit_in_host_memory_is_halved_until_it_does(
    test_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    per_image = traced_bytes_per_image(
        lambda: torchvision.models.get_model(MODEL, weights=None), (3, 224, 224), torch.float32
    )
    assert per_image is not None
    # Room (after the usable share and the safety factor) for 5 images, not for 16 or 8.
    room = int(5.5 * per_image * host_memory.SAFETY_FACTOR / host_memory.USABLE_SHARE)
    monkeypatch.setattr(job, "available_host_bytes", lambda: room)
    request = _request(test_set, tmp_path, batch_size=16, limit=12)
    outcome = run_inference(request)
    assert (outcome.facts.batch_size, outcome.facts.batch_size_requested) == (3, 16)
    assert read_logits(request.logits_path).logits.shape == (12, 1000)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"device": "gpu"}, "device 'gpu'"),
        ({"model": "fcn_resnet50"}, "not a classification model"),
        ({"weights": "IMAGENET9"}, "Unknown weights"),
    ],
)
def test_bad_requests_are_user_errors(
    test_set: Path, tmp_path: Path, changes: dict, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        run_inference(_request(test_set, tmp_path, **changes))


def test_compile_time_is_recorded_apart_and_never_timed(
    test_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[torch.nn.Module] = []

    def fake_compile(model: torch.nn.Module) -> torch.nn.Module:
        compiled.append(model)  # a real compile needs a C++ toolchain and minutes on this CPU
        return model

    monkeypatch.setattr(torch, "compile", fake_compile)
    variant = Variant("fp32", compile=True)
    request = _request(
        test_set,
        tmp_path,
        variant=variant,
        warmup_batches=0,
        logits_path=tmp_path / "logits.parquet",
        timing_path=tmp_path / "timing.parquet",
    )
    outcome = run_inference(request)
    assert len(compiled) == 1
    assert outcome.facts.variant == "fp32-compile" and outcome.facts.compile is True
    summary = read_timing(request.timing_path).summary
    assert summary.warmup_batches == 1  # the compiling call is a warm-up even if none asked
    assert summary.compile_seconds > 0
    assert summary.timed_images == N_IMAGES


class _ThreadSpy(torch.nn.Module):
    """Records how many CPU threads torch may use while the model runs."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.threads_seen: set[int] = set()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.threads_seen.add(torch.get_num_threads())
        return self.inner(x)


@pytest.mark.parametrize("threads", [1, 2])
def test_cpu_job_uses_its_threads_and_no_more(test_set: Path, tmp_path: Path, threads: int) -> None:
    spies: list[_ThreadSpy] = []

    def loader(name, weights):
        spies.append(_ThreadSpy(load_model(name, weights)))
        return spies[-1]

    before = torch.get_num_threads()
    try:
        outcome = run_inference(_request(test_set, tmp_path, threads=threads), model_loader=loader)
    finally:
        torch.set_num_threads(before)
    assert spies[0].threads_seen == {threads}
    assert outcome.facts.threads == threads
