#!/usr/bin/env bash
# The test suite: sets up .venv on first use, then lint, format check, snakemake --lint, pytest.
# Extra arguments go to pytest, e.g. ./test.sh -k mapping
set -euo pipefail
cd "$(dirname "$0")"
bash workflow/envs/setup-venv.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
lint-imports  # the import rule between the subpackages (pyproject.toml)
snakefmt --check Snakefile workflow/rules
snakemake --lint --configfile config/presets/demo.yaml
# Two workers by default (the CI machine's two cores); PYTEST_WORKERS=0 runs in one process.
pytest -ra -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
