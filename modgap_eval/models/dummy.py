"""A deterministic model whose outputs are a documented function of the input, for tests and demos.

Answers:
- Written content: if it contains ``<int> plus|minus|times <int>``, the result is the answer: the
  option (parsed from lines ``X. text`` in the content) whose text equals the result, or the result
  itself for generation. Otherwise the answer is option ``h(content) mod n`` / the content's last word.
- Spoken content: the model "hears" only the clip's length: option ``floor(seconds) mod n``, and
  generation returns ``floor(seconds)`` as digits.
  ``h(s)`` = int(sha256(s).hexdigest()[:8], 16).
- ``loglikelihood`` gives 0.0 to the chosen continuation and −1.0 − 0.01·i to the i-th other one.
  Continuations are matched to options by letter (``"A"``, ``" B"``) or by option text.

Hidden states (METHOD.md §2 shapes, ``layers`` = L, ``width`` = d): ``[L + 1, T, d]`` with
``h[l, j] = (l + 1) · u(key_j)`` where ``u(s)`` is the unit vector of a standard normal draw seeded
by ``h(s)``. Text keys are the lower-cased words of the content (``re.findall(r"\\w+")``); speech keys
are ``"frame:<i>"`` for each 100 ms frame (T_s = max(1, floor(seconds · 10))).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from modgap_eval import types as t
from modgap_eval.models.args import ModelArgs, check_device, validate_args
from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions

_ARITH = re.compile(r"(-?\d+)\s+(plus|minus|times)\s+(-?\d+)", re.IGNORECASE)
_OPTION = re.compile(r"^\s*([A-Z])[.)]\s*(.+?)\s*$", re.MULTILINE)
_OPS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b}


def stable_hash(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def unit_vector(key: str, width: int) -> Any:
    import numpy as np

    v = np.random.default_rng(stable_hash(key)).standard_normal(width)
    return v / np.linalg.norm(v)


def arithmetic_answer(text: str) -> int | None:
    match = _ARITH.search(text)
    if not match:
        return None
    return _OPS[match.group(2).lower()](int(match.group(1)), int(match.group(3)))


def text_keys(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def speech_frames(seconds: float) -> int:
    return max(1, math.floor(seconds * 10))


class DummyArgs(ModelArgs):
    layers: int = Field(4, ge=1)
    width: int = Field(16, ge=1)
    delay: float = Field(0.0, ge=0)


class DummyModel(Model):
    capabilities = frozenset({Capability.GENERATE, Capability.LOGLIKELIHOOD, Capability.HIDDEN_STATES})

    def __init__(
        self, layers: int = 4, width: int = 16, delay: float = 0.0, args: Mapping[str, str] | None = None
    ) -> None:
        self.layers = layers
        self.width = width
        self.delay = delay
        """Seconds to sleep per request: simulates a slow model (resume tests, progress demos)."""
        self._args = dict(args or {})

    @classmethod
    def from_args(cls, args: Mapping[str, str], runtime: RuntimeOptions) -> DummyModel:
        # The dummy computes on the CPU whatever --device says, but a device torch lacks is still an error.
        check_device(runtime.device)
        opts = validate_args(DummyArgs, args, "dummy")
        return cls(opts.layers, opts.width, opts.delay, args)

    def _wait(self, n: int) -> None:
        if self.delay > 0:
            time.sleep(self.delay * n)

    def info(self) -> ModelInfo:
        return ModelInfo(name="dummy", args=self._args, source="modgap_eval.models.dummy", revision="1", device="cpu")

    # ---- answers

    def _choice(self, prompt: t.Prompt, continuations: Sequence[str]) -> int:
        n = len(continuations)
        if prompt.modality is t.Modality.SPEECH:
            return math.floor(prompt.spoken().seconds) % n
        text = prompt.written()
        result = arithmetic_answer(text)
        if result is not None:
            options = dict(_OPTION.findall(text))
            for i, cont in enumerate(continuations):
                option_text = options.get(cont.strip(), cont.strip())
                if option_text == str(result):
                    return i
        return stable_hash(text) % n

    def loglikelihood(self, requests: Sequence[t.LoglikelihoodRequest]) -> list[t.Loglikelihood]:
        self._wait(len(requests))
        out = []
        for request in requests:
            chosen = self._choice(request.prompt, request.continuations)
            logprobs = tuple(0.0 if i == chosen else -1.0 - 0.01 * i for i in range(len(request.continuations)))
            out.append(t.Loglikelihood(logprobs=logprobs, token_counts=tuple(1 for _ in request.continuations)))
        return out

    def generate(self, requests: Sequence[t.GenerateRequest]) -> list[t.Generation]:
        self._wait(len(requests))
        out = []
        for request in requests:
            prompt = request.prompt
            if prompt.modality is t.Modality.SPEECH:
                out.append(t.Generation(text=str(math.floor(prompt.spoken().seconds))))
                continue
            result = arithmetic_answer(prompt.written())
            words = text_keys(prompt.written())
            out.append(t.Generation(text=str(result) if result is not None else (words[-1] if words else "")))
        return out

    # ---- hidden states

    def hidden_states(self, requests: Sequence[t.HiddenStatesRequest]) -> list[t.HiddenStates]:
        import numpy as np
        import torch

        self._wait(len(requests))  # delay= slows the representation stage too (kill -9 tests land in it)
        scale = np.arange(1, self.layers + 2, dtype=np.float64)[:, None, None]
        out = []
        for request in requests:
            prompt = request.prompt
            if prompt.modality is t.Modality.SPEECH:
                keys = [f"frame:{i}" for i in range(speech_frames(prompt.spoken().seconds))]
                labels: tuple[str, ...] = ()
            else:
                keys = text_keys(prompt.written()) or ["<empty>"]
                labels = tuple(keys)
            base = np.stack([unit_vector(k, self.width) for k in keys])  # [T, d]
            states = torch.from_numpy((scale * base[None]).astype(np.float32))
            out.append(t.HiddenStates(states=states, tokens=labels))
        return out
