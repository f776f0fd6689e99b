"""Issue 12's size measures of the evaluation core, counted the same way each time.

The core is ``modgap_eval/**/*.py`` without ``reference/`` and ``models/offline*.py``. Prints its physical lines
split into code, docstring, comment and blank lines, then every module over 300 lines and every function over 50
(``def`` line to last line) in the whole package. Duplicated code is counted by the workplace's
``duplicates --repo modgap_eval``.

Run: ``python scripts/core_size.py``.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "modgap_eval"
MAX_MODULE, MAX_FUNCTION = 300, 50


def in_core(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] != "reference" and not (relative.parts[0] == "models" and path.name.startswith("offline"))


def line_kinds(source: str) -> Counter[str]:
    tree = ast.parse(source)
    docstring_lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstring_lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    kinds: Counter[str] = Counter()
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        kind = (
            "blank"
            if not text
            else "docstring"
            if number in docstring_lines
            else "comment"
            if text[0] == "#"
            else "code"
        )
        kinds[kind] += 1
    return kinds


def long_functions(path: Path, source: str) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION
    ]


def main() -> int:
    files = sorted(PACKAGE.rglob("*.py"))
    core, findings = Counter[str](), []
    for path in files:
        source = path.read_text(encoding="utf-8")
        if in_core(path):
            core.update(line_kinds(source))
        if len(source.splitlines()) > MAX_MODULE:
            findings.append(f"{path.relative_to(PACKAGE.parent)} {len(source.splitlines())} lines (module)")
        findings += long_functions(path, source)
    n_core = sum(in_core(path) for path in files)
    print(
        f"core: {sum(core.values())} lines in {n_core} files ({', '.join(f'{k} {v}' for k, v in sorted(core.items()))})"
    )
    print(f"over {MAX_MODULE} lines per module or {MAX_FUNCTION} per function: {len(findings)}")
    for finding in findings:
        print(f"  {finding}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
