#!/usr/bin/env bash
# The model families whose processors need torchvision/torchaudio (qwen2.5-omni, qwen3-omni,
# granite-speech, phi4-multimodal; -k "omni" selects both Omni families) or whose model needs timm
# (gemma3n), tested in a side virtualenv with a torch that has matching builds on PyPI
# (torch 2.11.0 + torchvision 0.26.0 + torchaudio 2.11.0; PyPI's CUDA builds, which also run on a CPU; timm).
# The main environment's torch 2.13 CPU has no such builds, so there these tests skip.
# Usage, from the repository root: bash scripts/family_check.sh [VENV_DIR]   (~6 GB installed, ~2 min here; CI runs it)
set -euo pipefail
venv=${1:-.venv-families}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.11.0 torchvision==0.26.0 torchaudio==2.11.0 timm
  "$venv/bin/pip" install -q -e ".[dev]" torch==2.11.0
fi
"$venv/bin/python" -m pytest -q -rs tests/models/test_hf_families.py tests/models/test_hf_gemma3n.py \
  -k "omni or granite or phi4 or gemma3n"
