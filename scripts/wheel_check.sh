#!/usr/bin/env bash
# The installed-package route, as a user meets it: build the sdist and a wheel from that sdist, install
# the wheel with only its core dependencies in a clean virtual environment, and from a folder outside
# the repo list the built-in tasks (the same list as the checkout's) and run the dummy examples; then the
# quick test suite on that core-only environment.
# Needs the network for the build backend and the core dependencies (~150 MB). Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "wheel check: building the sdist and a wheel from it (python -m build)"
python3 -m build -q --outdir "$work/dist" . >/dev/null
echo "wheel check: clean venv with the core dependencies only ($(ls "$work"/dist/*.whl | xargs -n1 basename))"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/*.whl

cd "$work"  # outside the repo: tasks must come from the installed package
"$work/venv/bin/modgap-eval" ls tasks | awk '{print $1}' >installed.txt
(cd "$repo" && PYTHONPATH=$repo python3 -m modgap_eval.cli ls tasks | awk '{print $1}') >checkout.txt
diff -u checkout.txt installed.txt
echo "wheel check: ls tasks from the wheel lists the checkout's $(wc -l <installed.txt) tasks"
"$work/venv/bin/modgap-eval" ls groups >/dev/null
"$work/venv/bin/modgap-eval" --model dummy --tasks examples --log_samples --no_progress --output_path "$work/results"
"$work/venv/bin/modgap-eval" rescore "$(ls -d "$work"/results/dummy/*/ | head -1)" >/dev/null
if "$work/venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "wheel check: torch is in the core-only venv" >&2; exit 1
fi
echo "wheel check: the quick suite with only the core installed (what needs an extra skips, naming it)"
"$work/venv/bin/pip" install -q pytest hypothesis
(cd "$repo" && "$work/venv/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider)
echo "wheel check: ok"
