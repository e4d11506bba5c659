"""The suite's own layout: fixtures in tests/conftest.py, factories in tests/factories.py, and no
test module or conftest imported by another module (helpers live in plain modules)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_nothing_imports_a_test_module_or_a_conftest():
    paths = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    assert len(paths) > 40
    offences = []
    for path in paths:
        for module in imported_modules(path):
            last = module.split(".")[-1]
            if module.startswith(("tests.", "bench.")) and (
                last == "conftest" or last.startswith("test_")
            ):
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []


def test_fixtures_have_one_home():
    conftests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("conftest.py"))
    assert conftests == ["tests/conftest.py"]


def test_the_canary_amounts_and_money_words_are_defined_once():
    definitions = {
        "canary amount": '"7319.27")',
        "second canary amount": '"8642.19")',
        "money words": "MONEY_WORDS =",
    }
    for what, text in definitions.items():
        homes = sorted(
            str(p.relative_to(ROOT))
            for p in (ROOT / "tests").rglob("*.py")
            if p.name != "test_suite_layout.py" and text in p.read_text()
        )
        assert homes == ["tests/factories.py"], f"{what} defined in {homes}"
