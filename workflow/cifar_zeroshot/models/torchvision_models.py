"""The torchvision loading names runtimes/ imports from here; they live in
models.torchvision.classifiers."""

from cifar_zeroshot.models.torchvision.classifiers import load_model, resolve_weights, weights_label

__all__ = ["load_model", "resolve_weights", "weights_label"]
