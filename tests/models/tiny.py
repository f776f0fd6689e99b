"""Tiny, random speech LMs and text LMs built in code and saved to a folder, for tests.

Each builder trains a byte-level BPE tokenizer locally (no hub), makes the family's processor from
its default feature extractor, builds a 2-layer 64-wide model with a fixed seed and
``save_pretrained``s everything to ``folder``: tests then load it through the adapters' real
``from_pretrained`` path. Weights use a large init range so logits are peaked: greedy decoding of a
random model is then stable under the float noise batching introduces.
"""

from __future__ import annotations

from pathlib import Path

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
    tokenizer = train_tokenizer(specials, bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=64, init_std=INIT_RANGE,
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"], begin_suppress_tokens=None,
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
    processor = AudioFlamingo3Processor(WhisperFeatureExtractor(feature_size=128), tokenizer, chat_template=AF3_CHAT_TEMPLATE)
    audio_config = AudioFlamingo3EncoderConfig(
        num_mel_bins=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, hidden_size=32,
        initializer_range=INIT_RANGE,
    )
    config = AudioFlamingo3Config(audio_config=audio_config, text_config=_qwen2_text_config(len(tokenizer)),
                                  audio_token_id=tokenizer.convert_tokens_to_ids("<sound>"))
    torch.manual_seed(seed)
    model = AudioFlamingo3ForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
