"""A quick per-checkpoint check of the reference LSLM on multiple-choice tasks (text, speech, gap, WER).

Requests, model calls and scoring are the runner's (``requests.make_prompt_pair`` / ``make_request``,
the adapter's ``loglikelihood``, and the task's own scorer under its primary reading, with the
runner's calibration requests where the scorer reads ``pmi``); what this adds is that encoder frames are
computed once per clip for all checkpoints (the encoder is shared and frozen), and no hidden-state analysis.
It also reports what the LM receives: the greedy CTC transcript of each spoken question, against
the written question (WER). The full analysis (hidden-state metrics, APS) is the runner's job.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from modgap_eval.calibration import (
    attach_calibration,
    calibration_premise,
    neutral_samples,
)
from modgap_eval.chance import above_chance_p
from modgap_eval.errors import ConfigError
from modgap_eval.models.paper_lslm import PaperLSLM, WhisperFrontEnd
from modgap_eval.reference.ctc import transcribe
from modgap_eval.types import Generation, Loglikelihood, LoglikelihoodRequest, Modality, Prompt


class CachedFrontEnd(WhisperFrontEnd):
    """A front end that encodes each clip once across checkpoints (same frozen encoder).

    It shares the loaded extractor and encoder of ``front_end`` (no second load, so no
    ``super().__init__``) and only memoises ``encode``.
    """

    def __init__(self, front_end: WhisperFrontEnd) -> None:
        self.__dict__.update(vars(front_end))
        self.memo: dict[str, torch.Tensor] = {}

    def encode(self, waveform: np.ndarray) -> torch.Tensor:
        key = hashlib.sha1(np.ascontiguousarray(waveform).tobytes()).hexdigest()
        if key not in self.memo:
            self.memo[key] = super().encode(waveform)
        return self.memo[key]


@dataclass
class TaskCounts:
    """One task's counts in the check (not the runner's ``TaskResult``)."""

    n: int = 0
    text_correct: int = 0
    speech_correct: int = 0
    chance_probabilities: list[float] = field(default_factory=list)
    """Per item, the probability that uniform guessing is right (1 / options); their sum is the expected count."""
    transcripts: list[tuple[str, str]] = field(default_factory=list)


def ctc_transcript(model: PaperLSLM, waveform: np.ndarray) -> str:
    with torch.inference_mode():
        embeddings = model.model.get_input_embeddings().weight.float()
        return transcribe(model.part.adapter, model.part.front_end.encode(waveform), embeddings, model.tokenizer)


def evaluate(
    model: PaperLSLM, items: Sequence, modalities: Sequence[Modality], progress: bool = True, chunk: int = 32
) -> dict[str, TaskCounts]:
    """``items``: (task, sample, prompt pair) triples; returns per-task counts.

    Requests go to the model ``chunk`` at a time (the adapter batches them by its own batch size).
    """
    from tqdm.auto import tqdm

    results: dict[str, TaskCounts] = {}
    bar = tqdm(total=len(items) * len(modalities), desc="evaluate", unit="req", disable=not progress)
    for start in range(0, len(items), chunk):
        block = items[start : start + chunk]
        for task, sample, _ in block:
            result = results.setdefault(task.name, TaskCounts())
            result.n += 1
            result.chance_probabilities.append(1 / len(sample.choices))
        neutral = _neutral_outputs(model, block)
        for modality in modalities:
            prompts = [pair.text if modality is Modality.TEXT else pair.speech for _, _, pair in block]
            outputs = model.loglikelihood(_loglikelihood_requests(block, prompts))
            for (task, sample, pair), output in zip(block, outputs):
                scored: Loglikelihood | Generation = output
                if sample.id in neutral.get(task.name, {}):  # the pmi reading's calibration, as the runner attaches it
                    scored = attach_calibration(task, [sample], {sample.id: output}, neutral[task.name])[sample.id]
                result = results[task.name]
                correct = int(task.make_scorer().score(sample, scored).value)
                if modality is Modality.TEXT:
                    result.text_correct += correct
                else:
                    result.speech_correct += correct
                    if model.part.checkpoint.config.lm_input == "ctc-embeddings":
                        result.transcripts.append((sample.text, ctc_transcript(model, pair.speech.audio.samples)))
            bar.update(len(block))
    bar.close()
    return results


def _neutral_outputs(model: PaperLSLM, block: Sequence) -> dict[str, dict[str, Loglikelihood]]:
    """Per task, the block's neutral-prompt outputs (``modgap_eval.calibration``) where the scorer reads them."""
    from modgap_eval.requests import make_prompt

    wanted = []
    for task, sample, _ in block:
        premise = calibration_premise(task)
        if premise is not None:
            wanted.append((task, neutral_samples([sample], premise)[0], None))
    prompts = [make_prompt(task, neutral, Modality.TEXT, model.sample_rate) for task, neutral, _ in wanted]
    outputs = model.loglikelihood(_loglikelihood_requests(wanted, prompts)) if wanted else []
    found: dict[str, dict[str, Loglikelihood]] = {}
    for (task, sample, _), output in zip(wanted, outputs):
        found.setdefault(task.name, {})[sample.id] = output
    return found


def summarise(results: dict[str, TaskCounts]) -> dict:
    from modgap_eval.wer import word_error_rate

    n = sum(r.n for r in results.values())
    speech = sum(r.speech_correct for r in results.values())
    text = sum(r.text_correct for r in results.values())
    probabilities = [p for r in results.values() for p in r.chance_probabilities]
    pairs = [t for r in results.values() for t in r.transcripts]
    per_task = {
        name: {
            "n": r.n,
            "text_acc": 100 * r.text_correct / r.n,
            "speech_acc": 100 * r.speech_correct / r.n,
            "chance_acc": 100 * sum(r.chance_probabilities) / r.n,
            "speech_wer": word_error_rate(*zip(*r.transcripts)) if r.transcripts else None,
        }
        for name, r in results.items()
    }
    return {
        "n": n,
        "text_acc_micro": 100 * text / n if n else math.nan,
        "speech_acc_micro": 100 * speech / n if n else math.nan,
        "chance_acc_micro": 100 * sum(probabilities) / n if n else math.nan,
        "speech_above_chance_p": above_chance_p(speech, probabilities),
        "text_acc_macro": float(np.mean([t["text_acc"] for t in per_task.values()])),
        "speech_acc_macro": float(np.mean([t["speech_acc"] for t in per_task.values()])),
        "question_wer": word_error_rate(*zip(*pairs)) if pairs else None,
        "per_task": per_task,
    }


def multiple_choice_items(group: str, limit: int | None, progress: bool) -> list[tuple]:
    """The (task, sample, prompt pair) triples of the group's log-likelihood tasks, ``limit`` samples a task."""
    from modgap_eval.requests import make_prompt_pair
    from modgap_eval.tasks.loader import discover, load_samples
    from modgap_eval.tasks.schema import OutputType

    index = discover()
    items = []
    for name in index.select(group):
        task = index.tasks[name]
        if task.spec.output_type is not OutputType.LOGLIKELIHOOD:
            continue
        for sample in load_samples(task, limit=limit, progress=progress):
            items.append((task, sample, make_prompt_pair(task, sample, 16_000)))
    return items


def text_report(summary: dict) -> dict:
    """The written side of a summary (the LM alone: the same for every checkpoint)."""
    report = {k: v for k, v in summary.items() if k.startswith("text") or k in ("n", "chance_acc_micro")}
    report["per_task"] = {
        t: {"text_acc": v["text_acc"], "chance_acc": v["chance_acc"], "n": v["n"]}
        for t, v in summary["per_task"].items()
    }
    return report


def speech_report(summary: dict, text: dict, notes: dict) -> dict:
    """The spoken side of a checkpoint's summary, its gap to ``text`` and its training step and held-out WER."""
    speech = {k: v for k, v in summary.items() if not k.startswith("text")}
    speech["gap_micro"] = text["text_acc_micro"] - summary["speech_acc_micro"]
    speech["gap_macro"] = text["text_acc_macro"] - summary["speech_acc_macro"]
    speech["step"] = notes.get("step")
    speech["heldout_wer"] = notes.get("heldout_wer")
    return speech


def _loglikelihood_requests(block: Sequence, prompts: Sequence[Prompt]) -> list[LoglikelihoodRequest]:
    """One request per (task, sample) of ``block``; the check scores multiple-choice tasks only."""
    from modgap_eval.requests import make_request

    requests = []
    for (task, sample, _), prompt in zip(block, prompts):
        request = make_request(task, sample, prompt)
        if not isinstance(request, LoglikelihoodRequest):
            raise ConfigError(f"task {task.name}: the reference check scores only loglikelihood tasks")
        requests.append(request)
    return requests
