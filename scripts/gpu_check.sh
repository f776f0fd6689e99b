#!/usr/bin/env bash
# The checks that need a GPU (tests/test_cuda.py: CUDA vs CPU on tiny models, real OOM for
# --batch_size auto, the reference trainer on CUDA) and the model-family tests on that machine's
# torch/torchvision/torchaudio. CI has no GPU; run this where one is, from the repository root.
# tests/models/test_device_map.py includes a model split between cuda:0 and the CPU by device_map.
# Optional: WHEELS=<folder of wheels> installs them first into /tmp/site (a machine without PyPI);
# arguments go to the model-family pytest run (e.g. -k "not voxtral"); needs pytest-xdist.
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
if [ -n "${WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl
  export PYTHONPATH=/tmp/site:$PWD
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 - <<'EOF'
import importlib
for name in ("torch", "torchvision", "torchaudio", "transformers", "peft", "numpy"):
    try:
        print(name, importlib.import_module(name).__version__)
    except Exception as exc:  # report what is missing; the tests say what they skip
        print(name, "unavailable:", type(exc).__name__, exc)
EOF
status=0
python3 -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py || status=1
python3 -m pytest -q -p no:cacheprovider -rs -n "${WORKERS:-8}" tests/models "$@" || status=1
exit $status
