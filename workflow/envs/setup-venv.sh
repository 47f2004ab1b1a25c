#!/usr/bin/env bash
# Creates .venv in the repository root with torch, torchvision and this project installed
# (editable, with the test extras), and does nothing when it is already up to date.
# TORCH_SPEC picks the torch build; the default is the release this project is tested with.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv="$root/.venv"
python=${PYTHON:-python3}
torch_spec=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
stamp="$venv/.installed-$(cat "$root/pyproject.toml" <(echo "$torch_spec") | sha256sum | cut -c1-16)"

if [ -f "$stamp" ]; then
  exit 0
fi
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "ERROR: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1))." >&2
  echo "Set PYTHON=/path/to/python3.11 and rerun." >&2
  exit 1
}
echo "Setting up $venv (first run only; torch is large) ..." >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# shellcheck disable=SC2086  # torch_spec is a list of requirement strings
"$venv/bin/python" -m pip install --quiet --quiet --disable-pip-version-check $torch_spec
"$venv/bin/python" -m pip install --quiet --quiet --disable-pip-version-check -e "$root[test]"
rm -f "$venv"/.installed-*
touch "$stamp"
echo "Environment ready: $venv" >&2
