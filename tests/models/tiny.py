"""Tiny, random speech LMs and text LMs built in code and saved to a folder, for tests.

Each builder trains a byte-level BPE tokenizer locally (no hub), makes the family's processor from
its default feature extractor, builds a 2-layer 64-wide model with a fixed seed and
``save_pretrained``s everything to ``folder``: tests then load it through the adapters' real
``from_pretrained`` path. Weights use a large init range so logits are peaked: greedy decoding of a
random model is then stable under the float noise batching introduces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France? Paris is the capital of France.",
    "Answer with the letter of the correct option: A, B, C or D.",
    "You are a helpful assistant. Listen to the question and answer it.",
    "How many legs does a spider have? A spider has eight legs.",
    "Question: Which planet is known as the red planet? Answer: Mars",
    "system user assistant audio speech text hello world yes no",
    "0 1 2 3 4 5 6 7 8 9 the a an of to in is it that",
]

QWEN_CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n"
    "{% else %}"
    "{% for content in message['content'] %}"
    "{% if 'audio' in content or 'audio_url' in content or content['type'] == 'audio' %}"
    "{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif 'text' in content %}"
    "{{ content['text'] }}"
    "{% endif %}"
    "{% endfor %}"
    "<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}"
    "<|im_start|>assistant\n"
    "{% endif %}"
)
"""Qwen2-Audio-7B-Instruct's chat template (as its hub processor ships it)."""

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""A plain ChatML template like SmolLM2-Instruct's: text-only, string contents."""

INIT_RANGE = 0.4


def train_tokenizer(special_tokens: list[str], vocab_size: int = 400, **named_tokens: str):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``CORPUS`` with ``special_tokens``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, **named_tokens)


def _qwen2_text_config(vocab_size: int, **extra):
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=INIT_RANGE,
        tie_word_embeddings=False,
        **extra,
    )


def build_tiny_qwen2_audio(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer Qwen2-Audio (64 wide, 2-layer audio encoder) with its processor, saved to ``folder``."""
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioEncoderConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]
    tokenizer = train_tokenizer(specials, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    processor = Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tokenizer,
        chat_template=QWEN_CHAT_TEMPLATE,
    )
    audio_config = Qwen2AudioEncoderConfig(
        num_mel_bins=128,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        d_model=32,
        initializer_range=INIT_RANGE,
    )
    config = Qwen2AudioConfig(
        audio_config=audio_config,
        text_config=_qwen2_text_config(len(tokenizer)),
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_causal_lm(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer Qwen2 causal LM with a ChatML tokenizer (SmolLM2-style), saved to ``folder``."""
    import torch
    from transformers import Qwen2ForCausalLM

    tokenizer = train_tokenizer(
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(_qwen2_text_config(len(tokenizer))).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tone(seconds: float, hz: float = 220.0, sample_rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """A deterministic float32 test clip: a tone plus a little seeded noise."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    noise = np.random.default_rng(seed).normal(0, 0.01, t.shape)
    return (0.3 * np.sin(2 * np.pi * hz * t) + noise).astype(np.float32)


def build_tiny_whisper(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer English-only Whisper (80 mels) with a locally trained tokenizer, saved to ``folder``."""
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperProcessor

    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>", "<|startofprev|>"]
    tokenizer = train_tokenizer(
        specials, bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=64,
        init_std=INIT_RANGE,
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    gen = model.generation_config
    gen.decoder_start_token_id = ids["<|startoftranscript|>"]
    gen.eos_token_id = gen.pad_token_id = ids["<|endoftext|>"]
    gen.no_timestamps_token_id = ids["<|notimestamps|>"]
    gen.prev_sot_token_id = ids["<|startofprev|>"]
    gen.is_multilingual = False
    gen.max_length = 64
    model.save_pretrained(folder)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer).save_pretrained(folder)
    return folder


AF3_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' %}<sound>{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""A ChatML template with the audio item written in place as ``<sound>`` (AudioFlamingo3's token)."""


def build_tiny_audioflamingo3(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer AudioFlamingo3 (Whisper-style encoder + Qwen2 LM), saved to ``folder``."""
    import torch
    from transformers import (
        AudioFlamingo3Config,
        AudioFlamingo3EncoderConfig,
        AudioFlamingo3ForConditionalGeneration,
        AudioFlamingo3Processor,
        WhisperFeatureExtractor,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<sound>"]
    tokenizer = train_tokenizer(specials, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    processor = AudioFlamingo3Processor(
        WhisperFeatureExtractor(feature_size=128), tokenizer, chat_template=AF3_CHAT_TEMPLATE
    )
    audio_config = AudioFlamingo3EncoderConfig(
        num_mel_bins=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        hidden_size=32,
        initializer_range=INIT_RANGE,
    )
    config = AudioFlamingo3Config(
        audio_config=audio_config,
        text_config=_qwen2_text_config(len(tokenizer)),
        audio_token_id=tokenizer.convert_tokens_to_ids("<sound>"),
    )
    torch.manual_seed(seed)
    model = AudioFlamingo3ForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


TEKKEN_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?"
    r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""The pre-tokenizer pattern of Mistral's Tekken tokenizers (as in mistral-common's bundled tekken files)."""

TEKKEN_SPECIALS = {
    0: "<unk>",
    1: "<s>",
    2: "</s>",
    3: "[INST]",
    4: "[/INST]",
    5: "[AVAILABLE_TOOLS]",
    6: "[/AVAILABLE_TOOLS]",
    7: "[TOOL_RESULTS]",
    8: "[/TOOL_RESULTS]",
    9: "[TOOL_CALLS]",
    10: "[IMG]",
    11: "<pad>",
    12: "[IMG_BREAK]",
    13: "[IMG_END]",
    14: "[PREFIX]",
    15: "[MIDDLE]",
    16: "[SUFFIX]",
    17: "[SYSTEM_PROMPT]",
    18: "[/SYSTEM_PROMPT]",
    19: "[TOOL_CONTENT]",
    24: "[AUDIO]",
    25: "[BEGIN_AUDIO]",
    32: "[ARGS]",
    33: "[CALL_ID]",
    34: "[TRANSCRIBE]",
}
"""Voxtral's control tokens at their real ranks (``VoxtralProcessor`` hard-codes ``[AUDIO]`` = 24)."""


def tekken_merges(count: int) -> list[bytes]:
    """Byte-pair merges learned on ``CORPUS`` (most frequent pair first), as tiktoken ranks them."""
    import collections

    import regex

    words = collections.Counter(
        tuple(bytes([b]) for b in w.encode()) for line in CORPUS for w in regex.findall(TEKKEN_PATTERN, line)
    )
    merges: list[bytes] = []
    for _ in range(count):
        pairs: collections.Counter = collections.Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(a + b)
        merged: collections.Counter = collections.Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    return merges


def write_tiny_tekken(path: Path, num_special_tokens: int = 64, merges: int = 200) -> Path:
    """A Tekken tokenizer file (mistral-common's ``tekken.json``): 256 byte tokens + merges, Voxtral's
    control tokens and audio config (16 kHz, 12.5 tokens/s, 128 mels, 30 s chunks)."""
    import base64
    import json

    tokens = [bytes([i]) for i in range(256)]
    tokens += [t for t in dict.fromkeys(tekken_merges(merges)) if len(t) > 1]
    vocab = [
        {"rank": i, "token_bytes": base64.b64encode(t).decode(), "token_str": t.decode("utf-8", "replace")}
        for i, t in enumerate(tokens)
    ]
    specials = [
        {"rank": i, "token_str": TEKKEN_SPECIALS.get(i, f"<SPECIAL_{i}>"), "is_control": True}
        for i in range(max(TEKKEN_SPECIALS) + 1)
    ]
    tekken = {
        "config": {
            "pattern": TEKKEN_PATTERN,
            "num_vocab_tokens": len(vocab),
            "default_vocab_size": num_special_tokens + len(vocab),
            "default_num_special_tokens": num_special_tokens,
            "version": "v7",
        },
        "vocab": vocab,
        "special_tokens": specials,
        "audio": {
            "sampling_rate": 16_000,
            "frame_rate": 12.5,
            "chunk_length_s": 30.0,
            "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
        },
    }
    path.write_text(json.dumps(tekken), encoding="utf-8")
    return path


def build_tiny_voxtral(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer Voxtral (Whisper-style encoder + Llama LM) with a tiny Tekken tokenizer, saved to ``folder``."""
    import torch
    from transformers import (
        LlamaConfig,
        VoxtralConfig,
        VoxtralEncoderConfig,
        VoxtralForConditionalGeneration,
        VoxtralProcessor,
        WhisperFeatureExtractor,
    )
    from transformers.tokenization_mistral_common import MistralCommonBackend

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = MistralCommonBackend(write_tiny_tekken(folder / "tekken.json"))
    processor = VoxtralProcessor(WhisperFeatureExtractor(feature_size=128), tokenizer)
    # The projector stacks 4 encoder frames: intermediate_size must be 4 x hidden_size.
    audio_config = VoxtralEncoderConfig(
        num_mel_bins=128,
        hidden_size=32,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        initializer_range=INIT_RANGE,
    )
    text_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=4096,
        initializer_range=INIT_RANGE,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=11,
    )
    config = VoxtralConfig(audio_config=audio_config, text_config=text_config, audio_token_id=processor.audio_token_id)
    torch.manual_seed(seed)
    model = VoxtralForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


QWEN25_OMNI_CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n"
    "{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
    "{% set audio_count.value = audio_count.value + 1 %}"
    "{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "<|vision_bos|><|VIDEO|><|vision_eos|>"
    "{% elif 'text' in content %}"
    "{{ content['text'] }}"
    "{% endif %}"
    "{% endfor %}"
    "<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen2.5-Omni's processor chat template (images, audio and video items written in place)."""

QWEN25_OMNI_TOKENS = {
    "image_token": "<|IMAGE|>",
    "audio_token": "<|AUDIO|>",
    "video_token": "<|VIDEO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
}
"""The named multimodal tokens Qwen2.5-Omni's tokenizer carries (its processor reads them by name)."""


def omni_processor(processor_class: Any, tokens: dict[str, str], template: str) -> tuple[Any, Any, dict[str, int]]:
    """An Omni checkpoint's tokenizer (trained on CORPUS, the named multimodal tokens special), its real
    processor (Qwen2-VL image and video processors, Whisper features) and the tokens' ids."""
    from transformers import Qwen2VLImageProcessor, WhisperFeatureExtractor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *tokens.values()]
    tokenizer = train_tokenizer(
        specials, eos_token="<|im_end|>", pad_token="<|endoftext|>", extra_special_tokens=tokens
    )
    processor = processor_class(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(),
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tokenizer,
        chat_template=template,
    )
    return tokenizer, processor, {name: tokenizer.convert_tokens_to_ids(token) for name, token in tokens.items()}


def omni_token_ids(ids: dict[str, int]) -> dict[str, int]:
    """The Thinker config's multimodal token ids, named alike in both Omni generations."""
    return {
        "audio_token_id": ids["audio_token"],
        "image_token_id": ids["image_token"],
        "video_token_id": ids["video_token"],
        "audio_start_token_id": ids["audio_bos_token"],
        "audio_end_token_id": ids["audio_eos_token"],
        "vision_start_token_id": ids["vision_bos_token"],
        "vision_end_token_id": ids["vision_eos_token"],
    }


def save_omni(folder: Path, model_class: Any, config: Any, tokenizer: Any, processor: Any, seed: int) -> None:
    """The full Omni model (seeded random weights, no Talker) and its processor, saved to ``folder``."""
    import torch

    torch.manual_seed(seed)
    model = model_class(config).eval()
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


def build_tiny_qwen25_omni(folder: Path, seed: int = 0) -> Path:
    """A random Qwen2.5-Omni (2-layer audio and vision encoders, 2-layer 64-wide Thinker LM, no Talker),
    saved as a full Omni checkpoint (``thinker.*`` weights) with its processor, to ``folder``.

    The processor needs torchvision (its image and video processors)."""
    import torch
    import transformers
    from transformers import Qwen2_5OmniConfig, Qwen2_5OmniForConditionalGeneration, Qwen2_5OmniThinkerConfig

    tokenizer, processor, ids = omni_processor(
        transformers.Qwen2_5OmniProcessor, QWEN25_OMNI_TOKENS, QWEN25_OMNI_CHAT_TEMPLATE
    )
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "initializer_range": INIT_RANGE,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
    }
    audio_config = {
        "num_mel_bins": 128,
        "encoder_layers": 2,
        "encoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "d_model": 32,
        "output_dim": 64,
        "n_window": 100,
        "initializer_range": INIT_RANGE,
    }
    vision_config = {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "out_hidden_size": 64,
        "fullatt_block_indexes": [1],
        "initializer_range": INIT_RANGE,
    }
    thinker = Qwen2_5OmniThinkerConfig(
        text_config=text_config,
        audio_config=audio_config,
        vision_config=vision_config,
        **omni_token_ids(ids),
        initializer_range=INIT_RANGE,
    )
    config = Qwen2_5OmniConfig(thinker_config=thinker.to_dict(), enable_audio_output=False)
    save_omni(folder, Qwen2_5OmniForConditionalGeneration, config, tokenizer, processor, seed)
    # The full model's loader also reads the Talker's speaker table (unused here: no Talker).
    torch.save({"Chelsie": {"bos_token": 0, "cond": torch.zeros(1), "ref_mel": torch.zeros(1)}}, folder / "spk_dict.pt")
    return folder


GRANITE_CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}"
    "{%- else %}"
    "{%- set system_message = \"Knowledge Cutoff Date: April 2024.\\nToday's Date: \" + strftime_now('%B %d, %Y') + "
    '".\\nYou are Granite, developed by IBM. You are a helpful AI assistant." %}'
    "{%- set loop_messages = messages %}"
    "{%- endif %}"
    "{{- '<|start_of_role|>system<|end_of_role|>' + system_message + '<|end_of_text|>\\n' }}"
    "{%- for message in loop_messages %}"
    "{{- '<|start_of_role|>' + message['role'] + '<|end_of_role|>' + message['content'] + '<|end_of_text|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_of_role|>assistant<|end_of_role|>' }}{%- endif %}"
)
"""Granite 3.3's chat template (string contents; the default system turn carries today's date), which
Granite-Speech ships on its tokenizer: users write ``<|audio|>`` into the user text themselves."""


def build_tiny_granite_speech(folder: Path, seed: int = 0) -> Path:
    """A random Granite-Speech (2-layer conformer, 1-layer Q-former projector, 2-layer 64-wide Granite LM)
    with its speech LoRA (peft adapter files in ``folder``, as the real checkpoint ships it).

    The feature extractor needs torchaudio; the LoRA needs peft."""
    import torch
    from peft import LoraConfig
    from transformers import (
        Blip2QFormerConfig,
        GraniteConfig,
        GraniteSpeechConfig,
        GraniteSpeechEncoderConfig,
        GraniteSpeechFeatureExtractor,
        GraniteSpeechForConditionalGeneration,
        GraniteSpeechProcessor,
    )

    specials = ["<|end_of_text|>", "<|start_of_role|>", "<|end_of_role|>", "<|tool_call|>", "<|audio|>"]
    tokenizer = train_tokenizer(
        specials, bos_token="<|end_of_text|>", eos_token="<|end_of_text|>", pad_token="<|end_of_text|>"
    )
    tokenizer.chat_template = GRANITE_CHAT_TEMPLATE
    processor = GraniteSpeechProcessor(GraniteSpeechFeatureExtractor(), tokenizer)
    eot = tokenizer.convert_tokens_to_ids("<|end_of_text|>")
    text_config = GraniteConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=INIT_RANGE,
        embedding_multiplier=12.0,
        logits_scaling=8.0,
        residual_multiplier=0.22,
        attention_multiplier=1 / 16,
        tie_word_embeddings=True,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
    )
    encoder_config = GraniteSpeechEncoderConfig(
        input_dim=160,
        num_layers=2,
        hidden_dim=32,
        num_heads=2,
        dim_head=16,
        output_dim=8,
        context_size=200,
        conv_kernel_size=15,
    )
    projector_config = Blip2QFormerConfig(
        hidden_size=32,
        num_attention_heads=2,
        intermediate_size=64,
        num_hidden_layers=1,
        encoder_hidden_size=32,
        cross_attention_frequency=1,
        initializer_range=INIT_RANGE,
    )
    config = GraniteSpeechConfig(
        text_config=text_config,
        encoder_config=encoder_config,
        projector_config=projector_config,
        audio_token_index=tokenizer.convert_tokens_to_ids("<|audio|>"),
        initializer_range=INIT_RANGE,
        has_lora_adapter=True,
        window_size=15,
        downsample_rate=5,
    )
    torch.manual_seed(seed)
    model = GraniteSpeechForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = eot
    model.generation_config.pad_token_id = eot
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    # The speech LoRA on the LM's q/v projections, as the real one (r=64, alpha=32 there).
    save_lora(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"), folder, seed
    )
    return folder


PHI4_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}{{ '<|image|>' }}"
    "{% elif content['type'] == 'audio' %}{{ '<|audio|>' }}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|end|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}"
)
"""Phi-4-multimodal's processor chat template (``<|role|>content<|end|>``, media items written in place)."""


def build_tiny_phi4_multimodal(folder: Path, seed: int = 0) -> Path:
    """A random Phi-4-multimodal (2-block conformer audio encoder, 1-layer vision encoder, 2-layer 64-wide
    Phi-3 LM) with its processor and a ``speech-lora`` subfolder (a peft adapter), saved to ``folder``.

    The processor needs torchvision (its image processor); the LoRA needs peft."""
    import torch
    from peft import LoraConfig
    from transformers import (
        Phi4MultimodalAudioConfig,
        Phi4MultimodalConfig,
        Phi4MultimodalFeatureExtractor,
        Phi4MultimodalForCausalLM,
        Phi4MultimodalImageProcessor,
        Phi4MultimodalProcessor,
        Phi4MultimodalVisionConfig,
    )

    specials = ["<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|image|>", "<|audio|>"]
    tokenizer = train_tokenizer(
        specials,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        extra_special_tokens={"image_token": "<|image|>", "audio_token": "<|audio|>"},
    )
    processor = Phi4MultimodalProcessor(
        Phi4MultimodalImageProcessor(), Phi4MultimodalFeatureExtractor(), tokenizer, chat_template=PHI4_CHAT_TEMPLATE
    )
    eot, end = tokenizer.convert_tokens_to_ids("<|endoftext|>"), tokenizer.convert_tokens_to_ids("<|end|>")
    audio_config = Phi4MultimodalAudioConfig(
        num_blocks=2,
        hidden_size=32,
        num_attention_heads=4,
        intermediate_size=48,
        depthwise_separable_out_channel=32,
        ext_pw_out_channel=32,
        nemo_conv_channels=32,
        input_size=80,
        time_reduction=8,
        initializer_range=INIT_RANGE,
        audio_token_id=tokenizer.audio_token_id,
    )
    vision_config = Phi4MultimodalVisionConfig(
        num_hidden_layers=1,
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=4,
        crop_size=448,
        initializer_range=INIT_RANGE,
        image_token_id=tokenizer.image_token_id,
    )
    config = Phi4MultimodalConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        original_max_position_embeddings=4096,
        initializer_range=INIT_RANGE,
        bos_token_id=eot,
        eos_token_id=[eot, end],
        pad_token_id=eot,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.75},
        audio_config=audio_config,
        vision_config=vision_config,
    )
    torch.manual_seed(seed)
    model = Phi4MultimodalForCausalLM(config).eval()
    model.generation_config.eos_token_id = [eot, end]
    model.generation_config.pad_token_id = eot
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    # The speech LoRA on the LM's attention and MLP projections, as the real one (r=320, alpha=640 there).
    lora = LoraConfig(
        r=4,
        lora_alpha=8,
        task_type="CAUSAL_LM",
        target_modules=r"model\.layers\.\d+\.(self_attn\.(qkv|o)_proj|mlp\.(gate_up|down)_proj)",
    )
    save_lora(model, lora, Path(folder) / "speech-lora", seed)
    return folder


def save_lora(model, config, folder: Path, seed: int) -> Path:
    """Write a random LoRA for ``model`` in peft's file format (``adapter_config.json`` and
    ``adapter_model.safetensors`` with ``base_model.model.``-prefixed keys), as checkpoints ship them.

    Both LoRA matrices are random (peft would start B at zero), so the adapter changes outputs;
    ``model`` itself is left without it."""
    import copy

    import torch
    from peft import get_peft_model_state_dict, inject_adapter_in_model
    from safetensors.torch import save_file

    torch.manual_seed(seed + 1)
    lora_model = inject_adapter_in_model(config, copy.deepcopy(model))
    weights = get_peft_model_state_dict(lora_model)
    weights = {f"base_model.model.{k}": torch.randn_like(v) * 0.3 for k, v in weights.items()}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(str(folder))
    return folder


QWEN3_OMNI_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}"
    "{{ message['content'] }}"
    "{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
    "<|audio_start|><|audio_pad|><|audio_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}"
    "{{ content['text'] }}"
    "{% endif %}"
    "{% endfor %}"
    "{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen3-Omni's processor chat template, reduced to what these tests render: ChatML with each media item
written in place and no default system turn. transformers' integration test of
Qwen/Qwen3-Omni-30B-A3B-Instruct pins that layout: a user turn with an audio item renders as
``<|im_start|>user\\n<|audio_start|><|audio_pad|>...`` (ids 151644, 872, 198, 151669, 151675, ...) and decodes
without a system turn."""

QWEN3_OMNI_TOKENS = {
    "image_token": "<|image_pad|>",
    "audio_token": "<|audio_pad|>",
    "video_token": "<|video_pad|>",
    "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
    "audio_bos_token": "<|audio_start|>",
    "audio_eos_token": "<|audio_end|>",
}
"""The named multimodal tokens Qwen3-Omni's tokenizer carries (its processor reads them by name)."""


def build_tiny_qwen3_omni(folder: Path, seed: int = 0) -> Path:
    """A random Qwen3-Omni (2-layer audio and vision encoders, 2-layer 64-wide MoE Thinker LM with 4 experts,
    no Talker), saved as a full Omni checkpoint (``thinker.*`` weights) with its processor, to ``folder``.

    The processor needs torchvision (its image and video processors)."""
    import transformers
    from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration, Qwen3OmniMoeThinkerConfig

    tokenizer, processor, ids = omni_processor(
        transformers.Qwen3OmniMoeProcessor, QWEN3_OMNI_TOKENS, QWEN3_OMNI_CHAT_TEMPLATE
    )
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "moe_intermediate_size": 32,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "initializer_range": INIT_RANGE,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3], "interleaved": True},
    }
    audio_config = {
        "num_mel_bins": 128,
        "encoder_layers": 2,
        "encoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "d_model": 32,
        "output_dim": 64,
        "downsample_hidden_size": 32,
        "n_window": 50,  # the processor's n_window: both count audio tokens the same way
        "n_window_infer": 100,
        "initializer_range": INIT_RANGE,
    }
    vision_config = {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "out_hidden_size": 64,
        "deepstack_visual_indexes": [1],
        "initializer_range": INIT_RANGE,
    }
    thinker = Qwen3OmniMoeThinkerConfig(
        text_config=text_config,
        audio_config=audio_config,
        vision_config=vision_config,
        **omni_token_ids(ids),
        initializer_range=INIT_RANGE,
    )
    config = Qwen3OmniMoeConfig(thinker_config=thinker.to_dict(), enable_audio_output=False)
    save_omni(folder, Qwen3OmniMoeForConditionalGeneration, config, tokenizer, processor, seed)
    return folder


GEMMA3N_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}"
    "{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    '{%- set first_user_prefix = "" -%}'
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    '{{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}'
    "{%- endif -%}"
    "{%- if (message['role'] == 'assistant') -%}{%- set role = \"model\" -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}"
    "{%- if message['content'] is string -%}"
    "{{ message['content'] | trim }}"
    "{%- elif message['content'] is iterable -%}"
    "{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'audio' -%}{{ '<audio_soft_token>' }}"
    "{%- elif item['type'] == 'image' -%}{{ '<image_soft_token>' }}"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- else -%}"
    '{{ raise_exception("Invalid content type") }}'
    "{%- endif -%}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{'<start_of_turn>model\n'}}{%- endif -%}"
)
"""Gemma 3n instruct's chat template (google/gemma-3n-E4B-it's ``tokenizer.chat_template``, as printed
in unsloth's ``chat_templates.py``; the whitespace between tags, which its ``-`` markers strip, left out).
Text items are trimmed and written with nothing between them."""


def build_tiny_gemma3n(folder: Path, seed: int = 0) -> Path:
    """A random Gemma 3n (4-layer 64-wide text model with AltUp, LAuReL, per-layer inputs, KV sharing
    and a sliding window; 2-block USM audio encoder; timm's ``test_efficientnet`` as an unused vision
    tower) with its processor, saved to ``folder``.

    The vocabulary is laid out as the real one: text tokens, then the vision and the audio embedders'
    ranges at its end (``<end_of_image>``, ``<image_soft_token>``, ``<end_of_audio>``,
    ``<audio_soft_token>``). Four layers, not two: KV sharing needs a producing layer of each attention
    type before the sharing ones.
    The model (its vision config) needs timm."""
    import torch
    from transformers import (
        Gemma3nAudioConfig,
        Gemma3nAudioFeatureExtractor,
        Gemma3nConfig,
        Gemma3nForConditionalGeneration,
        Gemma3nProcessor,
        Gemma3nTextConfig,
        Gemma3nVisionConfig,
        PreTrainedTokenizerFast,
        SiglipImageProcessorPil,
    )

    specials = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<start_of_audio>"]
    trained = train_tokenizer(specials)
    text_vocab = len(trained)
    trained.add_special_tokens(
        {"additional_special_tokens": ["<end_of_image>", "<image_soft_token>", "<end_of_audio>", "<audio_soft_token>"]}
    )
    named = {"image_token": "<image_soft_token>", "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>"}
    named |= {"audio_token": "<audio_soft_token>", "boa_token": "<start_of_audio>", "eoa_token": "<end_of_audio>"}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=trained.backend_tokenizer,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        extra_special_tokens=named,
    )
    processor = Gemma3nProcessor(
        Gemma3nAudioFeatureExtractor(),
        SiglipImageProcessorPil(),
        tokenizer,
        chat_template=GEMMA3N_CHAT_TEMPLATE,
    )
    ids = tokenizer.convert_tokens_to_ids
    text_config = Gemma3nTextConfig(
        vocab_size=len(tokenizer),
        vocab_size_per_layer_input=text_vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        hidden_size_per_layer_input=16,
        laurel_rank=8,
        layer_types=["sliding_attention", "full_attention"] * 2,
        num_kv_shared_layers=2,
        sliding_window=24,
        activation_sparsity_pattern=[0.95, 0.95, 0.0, 0.0],
        initializer_range=INIT_RANGE,
        pad_token_id=ids("<pad>"),
        eos_token_id=ids("<eos>"),
        bos_token_id=ids("<bos>"),
    )
    audio_config = Gemma3nAudioConfig(
        vocab_size=2,
        vocab_offset=text_vocab + 2,
        hidden_size=32,
        conf_num_attention_heads=4,
        conf_num_hidden_layers=2,
        sscp_conv_channel_size=(16, 8),
    )
    vision_config = Gemma3nVisionConfig(
        architecture="test_efficientnet", hidden_size=32, vocab_size=2, vocab_offset=text_vocab
    )
    config = Gemma3nConfig(
        text_config=text_config,
        audio_config=audio_config,
        vision_config=vision_config,
        boi_token_id=ids("<start_of_image>"),
        eoi_token_id=ids("<end_of_image>"),
        image_token_id=ids("<image_soft_token>"),
        boa_token_id=ids("<start_of_audio>"),
        eoa_token_id=ids("<end_of_audio>"),
        audio_token_id=ids("<audio_soft_token>"),
        initializer_range=INIT_RANGE,
    )
    torch.manual_seed(seed)
    model = Gemma3nForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = [ids("<eos>"), ids("<end_of_turn>")]
    model.generation_config.pad_token_id = ids("<pad>")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
