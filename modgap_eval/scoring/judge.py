"""Optional LLM judge through any OpenAI-compatible ``/chat/completions`` endpoint (urllib only).

Off by default: nothing is sent anywhere until the user configures an endpoint (CLI options or
environment, ``scoring.judge_config``); a task file names only a judge ``profile``. Without a judge,
open-ended tasks are still generated and saved and reported "not scored (no judge)";
``modgap-eval rescore RUN_DIR --judge_base_url ...`` scores them later.

Profiles (recorded in results with the judge model and endpoint, never the key):

- ``voicebench``: VoiceBench's ``api_judge.py`` (commit 5338154): its system and user prompts,
  gpt-4o-mini unless the user names another model, temperature 0.5, top_p 0.95, max_tokens 1024,
  3 samples per response. ``open``: the mean of the 3 ratings (a reply is read as a number, else
  ``[[n]]``), ``value`` = mean / 5, so the task score is VoiceBench's GPT score × 20. ``qa``: the
  majority of the 3 lower-cased replies, right when it is exactly "yes" (a three-way tie, which
  VoiceBench breaks arbitrarily, counts as its expectation).
- ``modgap`` (default): this project's own rubric on VoiceBench's 1–5 scale, deterministic
  (temperature 0, one sample, at most 16 tokens).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.scoring.judge_config import JudgeEndpoint, judge_endpoint, profile_override
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample

JUDGE_SYSTEM = "You are a careful, impartial evaluator of a voice assistant's answers."

OPEN_PROMPT = """You are rating a voice assistant. A user spoke a request; below are the transcription of the \
request and the assistant's reply. Rate the reply from 1 to 5:
1: irrelevant, wrong, or does not address the request.
2: partly relevant, but inaccurate or incomplete.
3: relevant and mostly accurate, but wordy or padded with details that do not help.
4: relevant, accurate and concise; answers the request clearly.
5: highly relevant, accurate and to the point; exactly the information needed.

[Request]: {prompt}
[Reply]: {response}

Output only the rating, a single digit from 1 to 5."""

QA_PROMPT = """[Question]: {prompt}
[Reference answer]: {reference}
[Candidate answer]: {response}

Given the question and the reference answer, is the candidate answer correct? Output only "Yes" or "No"."""

# VoiceBench api_judge.py's prompts, verbatim (their wording is part of what the profile reproduces).
VOICEBENCH_SYSTEM = "You are a helpful assistant who tries to help answer the user's question."
VOICEBENCH_OPEN_PROMPT = """
I need your help to evaluate the performance of several models in the speech interaction scenario. The models will receive a speech input from the user, which they need to understand and respond to with a speech output.
Your task is to rate the model’s responses based on the provided user input transcription [Instruction] and the model’s output transcription [Response].

Please evaluate the response on a scale of 1 to 5:
1 point: The response is largely irrelevant, incorrect, or fails to address the user’s query. It may be off-topic or provide incorrect information.
2 points: The response is somewhat relevant but lacks accuracy or completeness. It may only partially answer the user’s question or include extraneous information.
3 points: The response is relevant and mostly accurate, but it may lack conciseness or include unnecessary details that don’t contribute to the main point.
4 points: The response is relevant, accurate, and concise, providing a clear answer to the user’s question without unnecessary elaboration.
5 points: The response is exceptionally relevant, accurate, and to the point. It directly addresses the user’s query in a highly effective and efficient manner, providing exactly the information needed.

Below are the transcription of user’s instruction and models’ response:
### [Instruction]: {prompt}
### [Response]: {response}

After evaluating, please output the score only without anything else.
You don’t need to provide any explanations.
"""  # noqa: E501 - verbatim: VoiceBench's lines are part of the prompt
# VoiceBench's prompt ends this line with a space; \x20 keeps it byte for byte (and lint-clean).
VOICEBENCH_QA_PROMPT = """### Question
{prompt}

### Reference answer
{reference}

### Candidate answer
{response}

Is the candidate answer correct based on the question and reference answer?\x20
Please only output a single "Yes" or "No". Do not output anything else."""


@dataclass(frozen=True)
class JudgeProfile:
    """Prompts and sampling settings of one way of judging (recorded in results)."""

    name: str
    system: str
    prompts: dict[str, str]
    """mode -> user prompt with ``{prompt}``, ``{reference}``, ``{response}`` slots (filled by plain replacement)."""
    model: str | None
    """The judge model the profile was made for; None: the user must name one."""
    sampling: dict[str, Any] = field(default_factory=dict)
    """Request fields besides model and messages (temperature, top_p, n, max_tokens, ...)."""

    def describe(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "default_model": self.model,
            "sampling": dict(self.sampling),
            "system": self.system,
            "prompts": dict(self.prompts),
        }


PROFILES: dict[str, JudgeProfile] = {
    "voicebench": JudgeProfile(
        "voicebench",
        VOICEBENCH_SYSTEM,
        {"open": VOICEBENCH_OPEN_PROMPT, "qa": VOICEBENCH_QA_PROMPT},
        "gpt-4o-mini",
        {
            "max_tokens": 1024,
            "frequency_penalty": 0,
            "presence_penalty": 0,
            "stop": None,
            "temperature": 0.5,
            "top_p": 0.95,
            "n": 3,
        },
    ),
    "modgap": JudgeProfile(
        "modgap",
        JUDGE_SYSTEM,
        {"open": OPEN_PROMPT, "qa": QA_PROMPT},
        None,
        {"temperature": 0.0, "max_tokens": 16},
    ),
}


def fill(template: str, prompt: str, reference: str, response: str) -> str:
    """Fill the slots one after another by plain replacement, as VoiceBench does (braces in text are safe)."""
    return template.replace("{prompt}", prompt).replace("{reference}", reference).replace("{response}", response)


def parse_rating(reply: str) -> int | None:
    """A 1–5 rating from the judge's reply: ``[[n]]`` if present, else the first standalone digit 1–5."""
    match = re.search(r"\[\[([1-5])\]\]", reply) or re.search(r"(?<![\d.])([1-5])(?!\d)(?!\.\d)", reply)
    return int(match.group(1)) if match else None


def parse_voicebench_rating(reply: str) -> float | None:
    """VoiceBench's reading of one rating: the reply as a number, else the first ``[[n]]``, else None."""
    try:
        return float(reply)
    except ValueError:
        match = re.search(r"\[\[(\d+)\]\]", reply)
        return float(match.group(1)) if match else None


def parse_verdict(reply: str) -> bool | None:
    """True for a reply starting with yes, False for no, None otherwise."""
    match = re.match(r"\W*(yes|no)\b", reply.strip(), flags=re.IGNORECASE)
    return None if match is None else match.group(1).lower() == "yes"


def voicebench_majority(replies: list[str]) -> float:
    """VoiceBench's qa vote: the most common lower-cased reply, right iff it is "yes" (a tie: its expectation)."""
    counts = Counter(reply.strip().lower() for reply in replies)
    if not counts:
        return 0.0
    top = max(counts.values())
    tied = [reply for reply, count in counts.items() if count == top]
    return tied.count("yes") / len(tied)


class LLMJudge(Scorer):
    """Scores a generation by asking the user's judge endpoint; see the module docstring."""

    output_type = OutputType.GENERATE
    needs_judge: ClassVar[bool] = True
    """The runner leaves the task "not scored (no judge)" when no endpoint is configured."""

    def __init__(self, mode: Literal["open", "qa"] = "open", profile: str = "modgap") -> None:
        if mode not in ("open", "qa"):
            raise ConfigError(f"llm_judge: mode must be 'open' or 'qa', not {mode!r}")
        if profile not in PROFILES:
            raise ConfigError(f"llm_judge: profile must be one of {sorted(PROFILES)}, not {profile!r}")
        self.mode = mode
        self.profile = profile

    @property
    def active_profile(self) -> str:
        """The task's profile, unless the user chose another with ``--judge_profile``."""
        return profile_override() or self.profile

    @property
    def prompt(self) -> str:
        return PROFILES[self.active_profile].prompts[self.mode]

    def describe(self) -> dict[str, object]:
        endpoint = judge_endpoint()
        return {
            "mode": self.mode,
            **PROFILES[self.active_profile].describe(),
            "prompt": self.prompt,
            "endpoint": endpoint.describe() if endpoint else None,
            "model": self._model(endpoint) if endpoint else None,
        }

    def _model(self, endpoint: JudgeEndpoint) -> str:
        model = endpoint.model or PROFILES[self.active_profile].model
        if not model:
            raise ConfigError(
                f"llm_judge profile {self.active_profile!r} names no model: give --judge_model (or $MODGAP_JUDGE_MODEL)"
            )
        return model

    def score(self, sample: Sample, output: Output) -> SampleScore:
        text = self.generated(output).text
        endpoint = judge_endpoint()
        if endpoint is None:
            raise ConfigError(
                "llm_judge is off by default: give --judge_base_url (and --judge_model, --judge_api_key_env) or set "
                "MODGAP_JUDGE_BASE_URL and MODGAP_JUDGE_MODEL (any OpenAI-compatible /chat/completions server)"
            )
        reference = sample.references[0] if sample.references else ""
        if self.mode == "qa" and not reference:
            raise DataError(f"llm_judge (qa): sample {sample.id} has no reference answer")
        if self.active_profile == "modgap" and not text.strip():
            # nothing to judge: the lowest mark, without a call (deterministic)
            return SampleScore(
                value=0.2 if self.mode == "open" else 0.0,
                unextractable=True,
                extras={"judge_rating": 1.0} if self.mode == "open" else {},
            )
        replies = self.complete(endpoint, fill(self.prompt, sample.text, reference, text))
        if self.active_profile == "voicebench":
            return self._voicebench(replies)
        reply = replies[0] if replies else ""
        found = parse_rating(reply) if self.mode == "open" else parse_verdict(reply)
        if found is None:
            return SampleScore(value=0.0, extracted=reply[:80], unextractable=True)
        if self.mode == "open":
            return SampleScore(value=found / 5.0, extracted=str(found), extras={"judge_rating": float(found)})
        return SampleScore(value=float(found), extracted="yes" if found else "no")

    def _voicebench(self, replies: list[str]) -> SampleScore:
        if self.mode == "qa":
            value = voicebench_majority(replies)
            return SampleScore(value=value, extracted="|".join(r.strip() for r in replies)[:80])
        ratings = [r for r in (parse_voicebench_rating(reply) for reply in replies) if r is not None]
        if not ratings:  # VoiceBench stops with an error here; one unreadable response should not stop a run
            return SampleScore(value=0.0, extracted="|".join(replies)[:80], unextractable=True)
        mean = sum(ratings) / len(ratings)
        return SampleScore(
            value=mean / 5.0, extracted=" ".join(f"{r:g}" for r in ratings), extras={"judge_rating": mean}
        )

    def complete(self, endpoint: JudgeEndpoint, prompt: str) -> list[str]:
        """The judge's replies (one per sample the profile asks for); the key goes only to ``endpoint``."""
        profile = PROFILES[self.active_profile]
        body = {
            "model": self._model(endpoint),
            **profile.sampling,
            "messages": [{"role": "system", "content": profile.system}, {"role": "user", "content": prompt}],
        }
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(endpoint.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = f"{endpoint.base_url}/chat/completions"
        request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=120.0) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DataError(f"llm_judge: request to {url} failed: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise DataError(f"llm_judge: {endpoint.base_url} did not answer with JSON ({exc.msg})") from exc
        try:
            return [str(choice["message"]["content"] or "").strip() for choice in payload["choices"]]
        except (KeyError, IndexError, TypeError) as exc:
            raise DataError(f"llm_judge: unexpected reply from {endpoint.base_url}: {str(payload)[:200]}") from exc
