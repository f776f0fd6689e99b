"""Optional LLM judge through any OpenAI-compatible ``/chat/completions`` endpoint (urllib only).

Off by default: nothing is sent anywhere unless an endpoint and a judge model are given, in the
scorer's YAML ``args`` (``base_url``, ``model``) or in ``MODGAP_JUDGE_BASE_URL`` /
``MODGAP_JUDGE_MODEL``; the API key, if any, is read from the environment variable named by
``api_key_env`` and never recorded. Judge model, endpoint, prompt and settings are recorded.

Modes follow VoiceBench's GPT evaluation: ``open`` rates a response 1–5 for the open-ended subsets
(alpacaeval, commoneval, wildvoice; ``value`` = rating / 5, so the task score is VoiceBench's
rating × 20), ``qa`` asks whether a response matches the reference (sd-qa; ``value`` 1 or 0).
The rubric wording is ours, on VoiceBench's 1–5 scale.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Literal

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Generation, Loglikelihood, Sample

BASE_URL_ENV = "MODGAP_JUDGE_BASE_URL"
MODEL_ENV = "MODGAP_JUDGE_MODEL"

JUDGE_SYSTEM = "You are a careful, impartial evaluator of a voice assistant's answers."

OPEN_PROMPT = """You are rating a voice assistant. A user spoke a request; below are the transcription of the \
request and the assistant's reply. Rate the reply from 1 to 5:
1: irrelevant, wrong, or does not address the request.
2: partly relevant, but inaccurate or incomplete.
3: relevant and mostly accurate, but wordy or padded with details that do not help.
4: relevant, accurate and concise; answers the request clearly.
5: highly relevant, accurate and to the point; exactly the information needed.

[Request]: {question}
[Reply]: {response}

Output only the rating, a single digit from 1 to 5."""

QA_PROMPT = """[Question]: {question}
[Reference answer]: {reference}
[Candidate answer]: {response}

Given the question and the reference answer, is the candidate answer correct? Output only "Yes" or "No"."""

_PROMPTS = {"open": OPEN_PROMPT, "qa": QA_PROMPT}


def parse_rating(reply: str) -> int | None:
    """A 1–5 rating from the judge's reply: ``[[n]]`` if present, else the first standalone digit 1–5."""
    match = re.search(r"\[\[([1-5])\]\]", reply) or re.search(r"(?<![\d.])([1-5])(?!\d)(?!\.\d)", reply)
    return int(match.group(1)) if match else None


def parse_verdict(reply: str) -> bool | None:
    """True for a reply starting with yes, False for no, None otherwise."""
    match = re.match(r"\W*(yes|no)\b", reply.strip(), flags=re.IGNORECASE)
    return None if match is None else match.group(1).lower() == "yes"


class LLMJudge(Scorer):
    """Scores a generation by asking a judge model; see the module docstring for modes and settings."""

    output_type = OutputType.GENERATE

    def __init__(self, mode: Literal["open", "qa"] = "open", model: str | None = None, base_url: str | None = None,
                 api_key_env: str = "MODGAP_JUDGE_API_KEY", temperature: float = 0.0, max_tokens: int = 16,
                 timeout_s: float = 60.0) -> None:
        if mode not in _PROMPTS:
            raise ConfigError(f"llm_judge: mode must be one of {sorted(_PROMPTS)}, not {mode!r}")
        self.mode = mode
        self.model = model or os.environ.get(MODEL_ENV) or None
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or "").rstrip("/") or None
        self.api_key_env = api_key_env
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.timeout_s = float(timeout_s)
        self.system = JUDGE_SYSTEM
        self.prompt = _PROMPTS[mode]

    def require_endpoint(self) -> tuple[str, str]:
        if not self.base_url or not self.model:
            raise ConfigError(
                "llm_judge is off by default: give the judge endpoint and model in scorer.args (base_url, model) "
                f"or set {BASE_URL_ENV} and {MODEL_ENV} (any OpenAI-compatible /chat/completions server)"
            )
        return self.base_url, self.model

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        if not isinstance(output, Generation):
            raise TypeError("llm_judge scores Generation outputs")
        base_url, model = self.require_endpoint()
        if not output.text.strip():
            # nothing to judge: the lowest mark, without a call (deterministic)
            return SampleScore(value=0.2 if self.mode == "open" else 0.0, unextractable=True,
                               extras={"judge_rating": 1.0} if self.mode == "open" else {})
        fields = {"question": sample.text, "response": output.text,
                  "reference": sample.references[0] if sample.references else ""}
        if self.mode == "qa" and not fields["reference"]:
            raise DataError(f"llm_judge (qa): sample {sample.id} has no reference answer")
        reply = self.complete(base_url, model, self.prompt.format(**fields))
        if self.mode == "open":
            rating = parse_rating(reply)
            if rating is None:
                return SampleScore(value=0.0, extracted=reply[:80], unextractable=True)
            return SampleScore(value=rating / 5.0, extracted=str(rating), extras={"judge_rating": float(rating)})
        verdict = parse_verdict(reply)
        if verdict is None:
            return SampleScore(value=0.0, extracted=reply[:80], unextractable=True)
        return SampleScore(value=float(verdict), extracted="yes" if verdict else "no")

    def complete(self, base_url: str, model: str, prompt: str) -> str:
        body = {"model": model, "temperature": self.temperature, "max_tokens": self.max_tokens,
                "messages": [{"role": "system", "content": self.system}, {"role": "user", "content": prompt}]}
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(f"{base_url}/chat/completions", data=json.dumps(body).encode("utf-8"),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DataError(f"llm_judge: request to {base_url}/chat/completions failed: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise DataError(f"llm_judge: {base_url} did not answer with JSON ({exc.msg})") from exc
        try:
            return str(payload["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise DataError(f"llm_judge: unexpected reply from {base_url}: {str(payload)[:200]}") from exc
