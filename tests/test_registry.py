"""The lazy registry: nothing heavy imported until used, 'did you mean', entry points."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modgap_eval.errors import RegistryError
from modgap_eval.registry import Registry


def test_import_is_light():
    code = (
        "import sys, modgap_eval, modgap_eval.models, modgap_eval.scoring, modgap_eval.cli, modgap_eval.runner;"
        "modgap_eval.cli.build_command_parser();"
        "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_reference_resolves_on_first_use():
    registry: Registry[object] = Registry("thing", builtins={"json_loads": "json:loads"})
    registry.add("json_dumps", "json:dumps")
    import json

    assert registry.names() == ["json_dumps", "json_loads"]
    assert registry.get("json_dumps") is json.dumps and registry.get("json_loads") is json.loads
    with pytest.raises(RegistryError, match="must be 'module:Attr'"):
        Registry("thing", builtins={"x": "no_colon"})
    registry.add("broken", "no_such_module_xyz:Thing")
    with pytest.raises(RegistryError, match="cannot import 'no_such_module_xyz'"):
        registry.get("broken")


def test_did_you_mean_and_duplicates():
    registry: Registry[object] = Registry("model")

    @registry.register("qwen2-audio")
    class A:  # noqa: D401
        pass

    with pytest.raises(RegistryError, match=r"unknown model 'qwen2audio'; did you mean 'qwen2-audio'"):
        registry.get("qwen2audio")
    with pytest.raises(RegistryError, match="registered twice"):
        registry.add("qwen2-audio", A)
    with pytest.raises(RegistryError, match="must be 'module:Attr'"):
        registry.add("x", "no_colon")


def test_entry_points_add_models(monkeypatch):
    from importlib import metadata

    class FakeEP:
        name, value = "third-party", "json:loads"

    monkeypatch.setattr(metadata, "entry_points", lambda group: [FakeEP()] if group == "grp" else [])
    registry: Registry[object] = Registry("model", entry_point_group="grp")
    import json

    assert "third-party" in registry.names() and registry.get("third-party") is json.loads
