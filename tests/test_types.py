"""Prompt's typed content accessors: the slot's value for the matching modality, a clear error otherwise."""

import numpy as np
import pytest

from modgap_eval.types import Modality, Prompt, Waveform


def test_written_and_spoken_return_the_content_of_their_modality():
    wave = Waveform(np.zeros(160, dtype=np.float32), 16_000)
    written = Prompt(Modality.TEXT, "Q: ", " A:", text="two plus two")
    spoken = Prompt(Modality.SPEECH, "Q: ", " A:", audio=wave)
    assert written.written() == "two plus two"
    assert spoken.spoken() is wave


def test_the_other_accessor_names_the_prompt_modality():
    written = Prompt(Modality.TEXT, "", "", text="hi")
    spoken = Prompt(Modality.SPEECH, "", "", audio=Waveform(np.zeros(16, dtype=np.float32), 16_000))
    with pytest.raises(ValueError, match="a text prompt holds no audio"):
        written.spoken()
    with pytest.raises(ValueError, match="a speech prompt holds no text"):
        spoken.written()
