#!/usr/bin/env bash
# The benchmark: sets up .venv on first use, then runs the whole workflow.
# Extra arguments go to snakemake, e.g. ./run.sh --configfile config/presets/demo.yaml
set -euo pipefail
cd "$(dirname "$0")"
bash workflow/envs/setup-venv.sh
exec .venv/bin/snakemake --profile profiles/local "$@"
