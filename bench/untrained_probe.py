"""What the linear probe reaches on the offline demo: untrained models' penultimate features of
the synthetic images.

    python bench/untrained_probe.py
    python bench/untrained_probe.py --models resnet18 --train-per-class 100 --test-per-class 20

The demo runs untrained torchvision models (initialised from the workflow's fixed seed, in eval
mode) on the synthetic archive, whose classes differ in colour and stripes. For each model this
takes the input of its final nn.Linear for the synthetic training and test images (preprocessed
as for weights 'none': shortest side 256, centre crop 224, ImageNet mean and std), fits the probe
and prints its test accuracy (for the features as float32, as the workflow stores them, and
rounded to float16), with what shows whether the features still carry the images' differences:
how many features are zero for every image (dead ReLUs), how many are constant, the features'
effective rank, and the share of their variance that lies between classes.

It prints what it measured and asserts nothing.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from cifar_zeroshot.core.errors import UserError  # noqa: E402
from cifar_zeroshot.data.archive import read_test_batch, read_train_batches  # noqa: E402
from cifar_zeroshot.data.synthetic import write_synthetic_archive  # noqa: E402
from cifar_zeroshot.methods.probe.fit import fit_probe, probe_scores  # noqa: E402
from cifar_zeroshot.methods.probe.settings import ProbeSettings  # noqa: E402
from cifar_zeroshot.models.preprocess import preprocess_batch, spec_for  # noqa: E402
from cifar_zeroshot.models.torchvision.classifiers import load_model  # noqa: E402

# The final nn.Linear of each model: the probe's features are its input.
FINAL_LINEAR = {
    "alexnet": "classifier.6",
    "mobilenet_v3_small": "classifier.3",
    "resnet18": "fc",
    "vgg16": "classifier.6",
    "resnet50": "fc",
}


def penultimate_features(model_name: str, images: np.ndarray, batch: int) -> np.ndarray:
    """The input of the model's final nn.Linear for each image: float32 [N, F]."""
    model = load_model(model_name, None)
    final = model.get_submodule(FINAL_LINEAR[model_name])
    assert isinstance(final, torch.nn.Linear) and final.out_features == 1000
    captured: list[torch.Tensor] = []
    hook = final.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0]))
    spec = spec_for(None, "weights")
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            model(preprocess_batch(torch.from_numpy(images[start : start + batch]), spec))
    hook.remove()
    return torch.cat(captured).float().numpy()


def describe(features: np.ndarray, labels: np.ndarray) -> str:
    """Dead and constant features, effective rank, and the between-class share of variance."""
    dead = int((features == 0).all(axis=0).sum())
    constant = int((features.max(axis=0) == features.min(axis=0)).sum())
    centred = features - features.mean(axis=0)
    singular = np.linalg.svd(centred.astype(np.float64), compute_uv=False)
    energy = singular**2
    rank = energy.sum() ** 2 / (energy**2).sum() if energy.sum() > 0 else 0.0
    means = np.stack([features[labels == c].mean(axis=0) for c in range(10)])
    between = ((means - features.mean(axis=0)) ** 2).sum() / 10
    total = (centred**2).sum() / len(features)
    return (
        f"width {features.shape[1]}, zero everywhere {dead}, constant {constant}, "
        f"zero entries {np.mean(features == 0):.1%}, |mean| {np.abs(features).mean():.3g}, "
        f"effective rank {rank:.1f}, between-class share of variance {between / total:.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="+", default=["alexnet", "mobilenet_v3_small", "resnet18"]
    )
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--test-per-class", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="of the synthetic archive")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--regularisations", type=float, nargs="+", default=[1e-1, 1e-2, 1e-3, 1e-4, 1e-5]
    )
    parser.add_argument("--max-iterations", type=int, default=50)
    args = parser.parse_args()
    settings = ProbeSettings(0.2, tuple(args.regularisations), args.max_iterations, 0)
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "synthetic.tar.gz"
        write_synthetic_archive(
            archive, args.test_per_class, args.seed, train_images_per_class=args.train_per_class
        )
        train_images, train_labels = read_train_batches(archive)
        test_images, test_labels = read_test_batch(archive)
    print(f"{len(train_labels)} training and {len(test_labels)} test images; {settings}")
    for name in args.models:
        started = time.perf_counter()
        train = penultimate_features(name, train_images, args.batch)
        test = penultimate_features(name, test_images, args.batch)
        seconds = time.perf_counter() - started
        print(f"{name}: features in {seconds:.0f} s; {describe(train, train_labels)}")
        for storage in (np.float32, np.float16):
            print(
                f"{name}: {probe_result(train, train_labels, test, test_labels, storage, settings)}"
            )


def probe_result(
    train: np.ndarray,
    train_labels: np.ndarray,
    test: np.ndarray,
    test_labels: np.ndarray,
    storage: type[np.floating],
    settings: ProbeSettings,
) -> str:
    """The probe's test accuracy on features stored as ``storage``, and what storing them lost."""
    stored_train, stored_test = train.astype(storage), test.astype(storage)
    underflow = np.mean((stored_train == 0) & (train != 0))
    try:
        fit = fit_probe(stored_train, train_labels, settings)
    except UserError as error:
        return f"{np.dtype(storage).name}: probe refused ({error})"
    accuracy = (probe_scores(fit, stored_test).argmax(axis=1) == test_labels).mean()
    accuracies = ", ".join(f"{a:.3f}" for a in fit.validation_accuracies)
    return (
        f"{np.dtype(storage).name}: {underflow:.1%} of the values round to 0; probe test "
        f"accuracy {accuracy:.1%} (λ={fit.regularisation:g}; validation per λ [{accuracies}])"
    )


if __name__ == "__main__":
    main()
