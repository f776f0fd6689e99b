"""Test modules that need an optional extra skip, naming it, when it is not installed.

With only the core (``pip install modgap-eval``) the quick suite collects and passes; what needs
torch/transformers (``models``), datasets/pyarrow (``data``), matplotlib/evaluate (``analysis``) or
playwright (``dev``) is skipped with the ``pip install`` that brings it:
``pytest.importorskip("torch", reason=extra("torch", "models"))`` at the top of the test module.
"""

from __future__ import annotations


def extra(module: str, name: str) -> str:
    """The skip reason for a missing optional ``module``: the extra that installs it."""
    return f"needs {module!r}: pip install 'modgap-eval[{name}]'"
