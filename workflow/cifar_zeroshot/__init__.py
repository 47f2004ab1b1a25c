"""Zero-shot benchmark of ImageNet-pretrained classifiers on CIFAR-10.

The Snakemake scripts in workflow/scripts are thin adapters around these modules.
"""

__version__ = "0.1.0"
