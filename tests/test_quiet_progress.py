"""``--no_progress`` hides the libraries' bars too: transformers' "Loading weights" bar of a real (tiny)
checkpoint, whether transformers is imported after the switch or before it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.extras import extra

pytest.importorskip("transformers", reason=extra("transformers", "models"))

SCRIPT = """
import sys, tempfile
if sys.argv[1] == "before":
    import transformers  # already imported when the switch comes
if sys.argv[1] != "loud":
    from modgap_eval.commands.run import quiet_library_bars
    quiet_library_bars()
from transformers import LlamaConfig, LlamaForCausalLM
folder = tempfile.mkdtemp()
config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=2)
LlamaForCausalLM(config).save_pretrained(folder)
LlamaForCausalLM.from_pretrained(folder)
"""


@pytest.mark.slow  # three fresh transformers imports
@pytest.mark.parametrize("mode,bar_shown", [("loud", True), ("after", False), ("before", False)])
def test_no_progress_hides_the_weight_loading_bar(mode, bar_shown):
    env = {k: v for k, v in os.environ.items() if "PROGRESS_BARS" not in k}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("Loading weights" in done.stderr) is bar_shown
