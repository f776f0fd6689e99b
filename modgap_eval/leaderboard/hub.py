"""Publish ``leaderboard.json`` to a Hugging Face dataset repository (needs network and a token)."""

from __future__ import annotations

from pathlib import Path

from modgap_eval.errors import ModgapError, require

HUB_FILENAME = "leaderboard.json"


def push_to_hub(leaderboard_path: Path, repo_id: str) -> str:
    """Upload the file as ``leaderboard.json`` at the root of dataset ``repo_id``; return the commit URL."""
    hub = require("huggingface_hub", "data")
    api = hub.HfApi()
    try:
        api.create_repo(repo_id=repo_id, repo_type="dataset", exist_ok=True)
        commit = api.upload_file(
            path_or_fileobj=str(leaderboard_path),
            path_in_repo=HUB_FILENAME,
            repo_id=repo_id,
            repo_type="dataset",
            commit_message="Update modgap-eval leaderboard",
        )
    except (OSError, ValueError) as exc:  # hub HTTP errors and offline mode are OSErrors
        raise ModgapError(f"push to Hugging Face dataset {repo_id!r} failed: {exc}") from exc
    return str(getattr(commit, "commit_url", commit))
