"""The pipelined batch loop, run on the CPU: order of launches and writes, rows, and results.

The CPU runs the same loop as CUDA (batch i+1 is launched before batch i is written), so these
tests exercise the pipelined path itself; only the pinned-buffer copy is CUDA's own.
"""

import dataclasses
import time

import numpy as np
import pytest
import torch

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.batch_loop import PassSetup, batch_input, run_pass
from cifar_zeroshot.inference.clock import BatchClock
from cifar_zeroshot.models.preprocess import preprocess_batch, spec_for
from cifar_zeroshot.models.torchvision.classifiers import load_model
from cifar_zeroshot.records.logits import TIMING_COLUMNS
from cifar_zeroshot.runtimes.device_setup import set_precision
from cifar_zeroshot.runtimes.gpu_energy import EnergyMeter

N_IMAGES = 20
BATCH = 8  # 8 + 8 + 4: the last batch is padded to 8


class _Recorder:
    """Writer and model share one list of events: ("forward", call) and ("write", first image)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.image_index: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.logits: list[np.ndarray] = []

    def write_batch(self, image_index: np.ndarray, labels: np.ndarray, logits: np.ndarray) -> None:
        self.events.append(("write", int(image_index[0])))
        self.image_index.append(image_index)
        self.labels.append(labels)
        self.logits.append(logits)


class _Tiny(torch.nn.Module):
    """A fast stand-in classifier: 1000 logits from pooled pixels; records each call."""

    def __init__(self, recorder: _Recorder | None = None) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.head = torch.nn.Linear(3 * 4 * 4, 1000)
        self.recorder = recorder
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.recorder is not None:
            self.recorder.events.append(("forward", self.calls))
        pooled = torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)
        return self.head(pooled.to(self.head.weight.dtype))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (N_IMAGES, 32, 32, 3), dtype=np.uint8)
    return images, (np.arange(N_IMAGES) % 10).astype(np.uint8)


def _setup(
    model: torch.nn.Module,
    data: tuple[np.ndarray, np.ndarray],
    *,
    batch_size: int = BATCH,
    warmup_batches: int = 1,
    dtype: torch.dtype = torch.float32,
    channels_last: bool = False,
) -> PassSetup:
    images, labels = data
    return PassSetup(
        model_name="tiny",
        variant=Variant("bf16" if dtype == torch.bfloat16 else "fp32"),
        model=model.eval().to(dtype=dtype),
        images=torch.from_numpy(images),
        labels=labels,
        spec=spec_for(None, "weights"),
        dtype=dtype,
        channels_last=channels_last,
        device=torch.device("cpu"),
        batch_size=batch_size,
        warmup_batches=warmup_batches,
    )


def _unpipelined(setup: PassSetup) -> np.ndarray:
    """The same batches one after another, each read back before the next: the reference."""
    n = setup.images.shape[0]
    parts = []
    with torch.inference_mode():
        for start in range(0, n, setup.batch_size):
            x = preprocess_batch(
                batch_input(setup.images, start, setup.batch_size),
                setup.spec,
                setup.dtype,
                setup.channels_last,
            )
            y = setup.model(x).to(torch.float32).numpy()
            parts.append(y[: min(setup.batch_size, n - start)])
    return np.concatenate(parts)


def test_next_batch_is_launched_before_the_previous_one_is_written(data) -> None:
    recorder = _Recorder()
    run_pass(_setup(_Tiny(recorder), data), recorder)
    # Call 1 is the warm-up (written nowhere); calls 2, 3, 4 are the batches at 0, 8, 16.
    assert recorder.events == [
        ("forward", 1),
        ("forward", 2),
        ("forward", 3),
        ("write", 0),
        ("forward", 4),
        ("write", 8),
        ("write", 16),
    ]


def test_rows_and_logits_are_complete_in_order_and_equal_the_unpipelined_result(data) -> None:
    recorder = _Recorder()
    setup = _setup(_Tiny(), data, warmup_batches=2)
    begin = time.perf_counter()
    result = run_pass(setup, recorder)
    elapsed = time.perf_counter() - begin

    np.testing.assert_array_equal(np.concatenate(recorder.image_index), np.arange(N_IMAGES))
    np.testing.assert_array_equal(np.concatenate(recorder.labels), data[1])
    logits = np.concatenate(recorder.logits)
    assert logits.dtype == np.float32
    assert np.array_equal(logits, _unpipelined(setup))

    rows = result.rows
    assert [set(row) for row in rows] == [set(TIMING_COLUMNS)] * 5
    assert [row["batch_index"] for row in rows] == [0, 0, 0, 1, 2]
    assert [row["warmup"] for row in rows] == [True, True, False, False, False]
    assert [row["images"] for row in rows] == [8, 8, 8, 8, 4]
    assert {row["padded_images"] for row in rows} == {BATCH}
    for row in rows:
        parts = ("input_seconds", "forward_seconds", "output_seconds", "total_seconds")
        assert all(row[key] >= 0 for key in parts), row
        assert row["total_seconds"] > 0
    # Each timed total runs from its launch to the next launch: together, the timed loop.
    timed_total = sum(row["total_seconds"] for row in rows if not row["warmup"])
    assert timed_total <= elapsed
    assert begin < result.timed_start < begin + elapsed
    assert result.compile_seconds is None


def test_bf16_logits_are_read_back_as_float32_and_equal_the_unpipelined_result(data) -> None:
    recorder = _Recorder()
    setup = _setup(_Tiny(), data, dtype=torch.bfloat16, channels_last=True)
    run_pass(setup, recorder)
    logits = np.concatenate(recorder.logits)
    assert logits.dtype == np.float32
    assert np.array_equal(logits, _unpipelined(setup))


def test_a_real_model_gives_bit_identical_logits_to_the_unpipelined_loop(data) -> None:
    recorder = _Recorder()
    setup = _setup(load_model("squeezenet1_1", None), data, batch_size=6, warmup_batches=0)
    result = run_pass(setup, recorder)
    assert [row["images"] for row in result.rows] == [6, 6, 6, 2]
    assert np.array_equal(np.concatenate(recorder.logits), _unpipelined(setup))


def test_torch_runs_channels_last_on_the_cpu_in_every_precision_and_onnxruntime_never() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    layouts = {
        (variant.name, device.type): set_precision(variant, device)
        for variant in (Variant("fp32"), Variant("tf32"), Variant("bf16"))
        for device in (cpu, cuda)
    }
    assert layouts == {
        ("fp32", "cpu"): (torch.float32, True),
        ("tf32", "cpu"): (torch.float32, True),
        ("bf16", "cpu"): (torch.bfloat16, True),
        ("fp32", "cuda"): (torch.float32, False),  # the GPU's fp32 reference keeps NCHW
        ("tf32", "cuda"): (torch.float32, False),
        ("bf16", "cuda"): (torch.bfloat16, True),
    }
    for device in (cpu, cuda):
        onnx = Variant("fp32", runtime="onnxruntime")
        assert set_precision(onnx, device) == (torch.float32, False)
    set_precision(Variant("fp32"), cpu)  # TF32 off again for the tests that follow


def test_channels_last_moves_fp32_logits_in_the_last_bits_and_reruns_identically(data) -> None:
    model = load_model("squeezenet1_1", None)
    logits = {}
    for channels_last in (False, True, True):
        recorder = _Recorder()
        setup = _setup(model, data, channels_last=channels_last)
        if channels_last:
            setup = dataclasses.replace(setup, model=model.to(memory_format=torch.channels_last))
        run_pass(setup, recorder)
        logits.setdefault(channels_last, []).append(np.concatenate(recorder.logits))
    nchw, (first, again) = logits[False][0], logits[True]
    assert np.array_equal(first, again)  # a rerun is bit-identical
    # Another summation order in oneDNN's kernels: a few float32 ulps of the largest logit.
    assert np.abs(first - nchw).max() <= 1e-5 * np.abs(nchw).max()
    assert np.array_equal(first.argmax(1), nchw.argmax(1))


def test_any_callable_with_a_model_signature_runs_as_the_forward(data) -> None:
    tiny = _Tiny()

    def forward(x: torch.Tensor) -> torch.Tensor:  # as onnx_forward.OnnxForward is called
        return tiny(x)

    recorder = _Recorder()
    setup = dataclasses.replace(_setup(tiny, data), model=forward)
    run_pass(setup, recorder)
    assert np.array_equal(np.concatenate(recorder.logits), _unpipelined(_setup(tiny, data)))


def test_no_warmup_and_one_batch(data) -> None:
    recorder = _Recorder()
    setup = _setup(_Tiny(recorder), data, batch_size=32, warmup_batches=0)
    result = run_pass(setup, recorder)
    assert recorder.events == [("forward", 1), ("write", 0)]
    assert [(row["batch_index"], row["images"]) for row in result.rows] == [(0, N_IMAGES)]


def test_nan_logits_stop_the_pass_naming_the_batch(data) -> None:
    class _Poisoned(_Tiny):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = super().forward(x)
            return y.clone().fill_(float("nan")) if self.calls == 3 else y

    recorder = _Recorder()
    with pytest.raises(UserError, match=r"tiny \(fp32\).*batch 1 \(images 8\.\.15"):
        run_pass(_setup(_Poisoned(recorder), data), recorder)
    assert [event for event in recorder.events if event[0] == "write"] == [("write", 0)]


def test_a_model_that_is_not_an_imagenet_classifier_is_refused(data) -> None:
    class _Ten(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(x.shape[0], 10)

    with pytest.raises(UserError, match=r"tiny returned \(8, 10\).*not an ImageNet classifier"):
        run_pass(_setup(_Ten(), data), _Recorder())


def test_a_features_job_names_its_outputs_not_logits(data) -> None:
    """Feature and embedding jobs share the loop: their messages name what they compute."""

    class _Features(torch.nn.Module):
        def __init__(self, width: int, poisoned: bool) -> None:
            super().__init__()
            self.width, self.poisoned = width, poisoned

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            fill = float("nan") if self.poisoned else 0.0
            return torch.full((x.shape[0], self.width), fill)

    def setup(model: torch.nn.Module) -> PassSetup:
        base = _setup(model, data)
        return dataclasses.replace(base, output_width=6, output_name="features")

    with pytest.raises(UserError, match=r"returned \(8, 5\), not 6 features per image: the model"):
        run_pass(setup(_Features(5, poisoned=False)), _Recorder())
    with pytest.raises(UserError, match=r"produced NaN or infinite features in batch 0") as error:
        run_pass(setup(_Features(6, poisoned=True)), _Recorder())
    assert "logits" not in str(error.value) and "ImageNet classifier" not in str(error.value)


def test_batch_input_pads_with_the_last_image() -> None:
    images = torch.arange(5).reshape(5, 1)
    assert batch_input(images, 0, 3).flatten().tolist() == [0, 1, 2]
    assert batch_input(images, 3, 3).flatten().tolist() == [3, 4, 4]


def test_cpu_clock_is_the_wall_clock() -> None:
    clock = BatchClock(torch.device("cpu"))
    start = clock.mark()
    time.sleep(0.01)
    end = clock.mark()
    clock.wait(end)  # nothing to wait for on the CPU
    clock.sync()
    assert isinstance(start, float)
    assert 0.01 <= clock.seconds(start, end) < 1.0


class _RecordingMeter(EnergyMeter):
    """An energy meter that notes when it is started and stopped among the loop's events."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__(gpu_index=None)
        self.recorder = recorder

    def start(self) -> None:
        self.recorder.events.append(("energy start", 0))

    def stop(self) -> float:
        self.recorder.events.append(("energy stop", 0))
        return 12.5


def test_energy_is_read_over_the_timed_batches_only(data) -> None:
    recorder = _Recorder()
    setup = dataclasses.replace(
        _setup(_Tiny(recorder), data), energy_meter=_RecordingMeter(recorder)
    )
    result = run_pass(setup, recorder)
    events = [name for name, _ in recorder.events]
    # After the warm-up (forward 1) and before the first timed batch; after the last write.
    assert events[:3] == ["forward", "energy start", "forward"]
    assert events[-2:] == ["write", "energy stop"]
    assert result.gpu_energy_joules == 12.5


def test_a_cpu_pass_has_no_energy_figure(data) -> None:
    assert run_pass(_setup(_Tiny(), data), _Recorder()).gpu_energy_joules is None
