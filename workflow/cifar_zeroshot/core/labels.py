"""Class names shared by every stage."""

# CIFAR-10's label order, as in the archive's batches.meta.txt.
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

NUM_IMAGENET_CLASSES = 1000
NUM_CIFAR10_CLASSES = len(CIFAR10_CLASSES)
