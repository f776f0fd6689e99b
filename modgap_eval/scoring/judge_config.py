"""Who the LLM judge talks to, and whether scorers may download: set by the user, never by a task file.

The judge's endpoint, model and API-key variable come from the command line (``--judge_base_url``,
``--judge_model``, ``--judge_api_key_env``) or, failing that, the environment
(``MODGAP_JUDGE_BASE_URL``, ``MODGAP_JUDGE_MODEL``; the key in ``MODGAP_JUDGE_API_KEY``). A task
names only a judge *profile* (prompts and sampling settings). The key is read when a request is
made, sent only in requests to the configured endpoint, and never recorded.

Scorers that download and unpickle files (``qa_pedant``) run only with ``--allow_downloads``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace

from modgap_eval.errors import ConfigError

BASE_URL_ENV = "MODGAP_JUDGE_BASE_URL"
MODEL_ENV = "MODGAP_JUDGE_MODEL"
DEFAULT_KEY_ENV = "MODGAP_JUDGE_API_KEY"


@dataclass(frozen=True)
class JudgeEndpoint:
    base_url: str
    """An OpenAI-compatible API root; requests go to ``<base_url>/chat/completions``."""
    model: str | None = None
    """None: the profile's own model (e.g. gpt-4o-mini for ``voicebench``)."""
    api_key_env: str = DEFAULT_KEY_ENV
    """Name of the environment variable holding the key (the key itself is never stored here)."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--judge_base_url: {self.base_url!r} is not an http(s) URL")

    def describe(self) -> dict[str, str | None]:
        """What results record about the judge endpoint: URL and model, never the key."""
        return {"base_url": self.base_url, "model": self.model}


_configured: JudgeEndpoint | None = None
_profile_override: str | None = None
_downloads_allowed = False


def override_profile(profile: str | None) -> None:
    """Judge every llm_judge task with ``profile`` instead of the one its task names (``--judge_profile``)."""
    global _profile_override
    _profile_override = profile


def profile_override() -> str | None:
    return _profile_override


def configure_judge(endpoint: JudgeEndpoint | None) -> None:
    """Set (or clear) the judge endpoint for this process, as the CLI options do."""
    global _configured
    _configured = endpoint


def judge_endpoint() -> JudgeEndpoint | None:
    """The configured endpoint: the CLI's, else the environment's, else None (no judge: nothing is sent)."""
    if _configured is not None:
        return _configured
    base_url = os.environ.get(BASE_URL_ENV, "").strip().rstrip("/")
    if not base_url:
        return None
    return JudgeEndpoint(base_url=base_url, model=os.environ.get(MODEL_ENV) or None)


def allow_downloads(allowed: bool) -> None:
    global _downloads_allowed
    _downloads_allowed = bool(allowed)


def downloads_allowed() -> bool:
    return _downloads_allowed


def add_judge_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--judge_base_url",
        default=None,
        help=f"OpenAI-compatible endpoint for the LLM judge (else ${BASE_URL_ENV}; none: open-ended tasks are "
        "generated but not scored, 'rescore --judge_base_url ...' scores them later)",
    )
    add("--judge_model", default=None, help=f"judge model name (else ${MODEL_ENV}, else the profile's model)")
    add(
        "--judge_api_key_env",
        default=None,
        help=f"environment variable holding the judge's API key (default {DEFAULT_KEY_ENV}); "
        "sent only to the judge endpoint",
    )
    add(
        "--judge_profile",
        choices=["voicebench", "modgap"],
        default=None,
        help="judge with this profile instead of the one each task names (voicebench: its prompts, "
        "gpt-4o-mini, temperature 0.5, 3 samples; modgap: deterministic)",
    )
    add(
        "--allow_downloads",
        action="store_true",
        help="allow scorers that download and unpickle model files (qa_pedant)",
    )


def apply_judge_options(args: argparse.Namespace) -> None:
    """Configure the judge and downloads from parsed CLI options (options win over the environment)."""
    allow_downloads(getattr(args, "allow_downloads", False))
    override_profile(getattr(args, "judge_profile", None))
    base_url, model, key_env = (getattr(args, f"judge_{name}", None) for name in ("base_url", "model", "api_key_env"))
    if not (base_url or model or key_env):
        return
    current = JudgeEndpoint(base_url.rstrip("/"), os.environ.get(MODEL_ENV) or None) if base_url else judge_endpoint()
    if current is None:
        raise ConfigError("--judge_model/--judge_api_key_env need --judge_base_url (or $MODGAP_JUDGE_BASE_URL)")
    configure_judge(replace(current, model=model or current.model, api_key_env=key_env or DEFAULT_KEY_ENV))
