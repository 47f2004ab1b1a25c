# Zero-shot benchmark of ImageNet-pretrained classifiers on CIFAR-10.
# Stages (one .smk each): data -> class mapping -> inference (one job per model and variant)
# -> metrics -> plots; `snakemake --report results/report.html` bundles them.
import os
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

# The package the scripts call lives in workflow/: importable here and, through PYTHONPATH, in
# every job's script (also in --use-conda environments and cluster jobs, which lack the install).
PACKAGE_DIR = str(Path(workflow.basedir) / "workflow")
sys.path.insert(0, PACKAGE_DIR)
os.environ.update(
    PYTHONPATH=os.pathsep.join([PACKAGE_DIR, *filter(None, [os.environ.get("PYTHONPATH")])])
)

from cifar_zeroshot.workflow_config import (
    check_against_schema,
    coerce_command_line_values,
    load_config_file,
    plan_workflow,
)

# The default configuration, under whatever --configfile/--config gave (those win). Read here
# rather than with `configfile:` so that a YAML mistake is reported with its line.
for key, value in load_config_file("config/config.yaml").items():
    config.setdefault(key, value)
SCHEMA = Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
config.update(coerce_command_line_values(config, SCHEMA))
check_against_schema(config, SCHEMA)
validate(config, str(SCHEMA))  # fills in the defaults
PLAN = plan_workflow(config)
RUNS = PLAN.runs  # (model, variant) pairs: one inference job each
MODEL_WEIGHTS = PLAN.model_weights


report: "workflow/report/workflow.rst"


include: "workflow/rules/data.smk"
include: "workflow/rules/mapping.smk"
include: "workflow/rules/inference.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.metrics.output,
        rules.plots.output,
        rules.run_info.output,
