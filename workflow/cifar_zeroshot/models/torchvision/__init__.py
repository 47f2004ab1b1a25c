"""torchvision classifiers: names and weights from their per-version catalog, and loading."""
