"""One-time work says what it is doing and that it happens once: one modgap-eval line on stderr the
first time (TTS synthesis, weight conversion), none when the cache already holds the result."""

from __future__ import annotations

import shutil

import pytest

from modgap_eval.models import offline
from modgap_eval.tasks import tts
from modgap_eval.tasks.schema import TTSSpec


@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (apt-get install flite)")
def test_tts_synthesis_announces_itself_once(capsys):
    spec = TTSSpec(engine="flite", sample_rate=16_000)
    tts.speak(["How many legs does a spider have?", "Name a primary colour."], spec)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "speaking 2 new clip(s) with flite (once; cached in" in err
    tts.speak(["How many legs does a spider have?"], spec)
    assert capsys.readouterr().err == ""  # cached: nothing to say


def test_weight_conversion_announces_itself_once(capsys, monkeypatch):
    converted = []

    def convert(package_dir, out_dir):
        converted.append(package_dir)
        (out_dir / "model.safetensors").write_bytes(b"stand-in weights")

    # A real installed distribution stands in for the weights package; the converter is the fake part.
    from modgap_eval.models import offline_convert

    monkeypatch.setattr(offline_convert, "stand_in_convert", convert, raising=False)  # converters are named
    package = offline.OfflinePackage("org/tiny-model", "pyyaml", "yaml", (), "stand_in_convert")
    first = offline.converted_checkpoint(package)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "converting org/tiny-model from pyyaml" in err and "(once" in err
    assert offline.converted_checkpoint(package) == first and len(converted) == 1
    assert capsys.readouterr().err == ""
