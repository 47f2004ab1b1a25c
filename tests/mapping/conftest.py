"""Fixtures shared by the class-mapping tests."""

import pytest
from workflow_runner import DEFAULT_MAPPING_FILE

from cifar_zeroshot.mapping.definition import ClassMapping
from cifar_zeroshot.mapping.yaml_file import load_mapping


@pytest.fixture(scope="module")
def default_mapping() -> ClassMapping:
    """The shipped class mapping (config/class_mapping.yaml), loaded and checked."""
    return load_mapping(DEFAULT_MAPPING_FILE)
