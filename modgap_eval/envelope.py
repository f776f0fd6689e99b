"""Facts about the environment recorded in every results file (reproducibility envelope)."""

from __future__ import annotations

import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata

from modgap_eval.paths import REPO_ROOT

RECORDED_PACKAGES = (
    "torch",
    "transformers",
    "datasets",
    "numpy",
    "soundfile",
    "soxr",
    "jiwer",
    "accelerate",
    "piper-tts",
)


@lru_cache(maxsize=1)
def git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def platform_description() -> tuple[str, str]:
    return sys.version.split()[0], platform.platform()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
