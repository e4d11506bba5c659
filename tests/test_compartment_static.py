"""Crew and guest code import nothing that holds money, name no money field, and store none.

Read with `ast`, not grep: an import is an import however it is spelt (`from bookings import
money`, `import bookings.services as s`, `apps.get_model("bookings", "Financials")`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from bookings.selectors import OperationalBooking
from tests.factories import looks_like_money

ROOT = Path(__file__).resolve().parents[1]
APPS = ("crew", "guests")

# Modules that hold money or hand it out: the ledger's model, the arithmetic, the writes.
FORBIDDEN_MODULES = (
    "bookings.money",
    "bookings.services",
    "bookings.forms",
    "bookings.admin",
    # The project's own money-holding modules: the operator's summary and the intake (which
    # validates amounts). jada.pipeline, the one entry point, hands out no money.
    "jada.summary",
    "jada.intake",
    "jada.api",
    "jada.management",
)
# `bookings.models` holds Booking (fine to name) and Financials (never): the names decide.
FORBIDDEN_NAMES = frozenset(
    {
        "Financials",
        "financials",
        "gross_revenue",
        "crew_cost",
        "captain_cost",
        "fee_percent",
        "net_revenue",
        "port_fee",
        "port_fee_percent",
        "settle",
        "Settlement",
        "MONEY_FIELDS",
        "MONEY_INPUTS",
        "revenue_by_month",
    }
)
# Template and email text: the same names as words, and the template tags that reach money.
TEMPLATE_WORDS = re.compile(
    r"\b(financials|gross_revenue|crew_cost|captain_cost|fee_percent|net_revenue|port_fee)\b",
    re.IGNORECASE,
)


def python_files() -> list[Path]:
    found = sorted(p for app in APPS for p in (ROOT / app).rglob("*.py"))
    assert len(found) >= 10, f"walked too little: {found}"
    return found


def template_files() -> list[Path]:
    found = [
        *(ROOT / "templates" / "crew").rglob("*"),
        *(ROOT / "templates" / "guests").rglob("*"),
        *(ROOT / "templates" / "emails").glob("crew-*"),
        *(ROOT / "templates" / "emails").glob("guest-*"),
    ]
    return sorted(p for p in found if p.is_file())


def _module_of(node: ast.ImportFrom, path: Path, root: Path) -> str:
    if not node.level:
        return node.module or ""
    # A relative import inside crew/ or guests/ stays inside that app.
    package = path.relative_to(root).parent.parts
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def violations(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def say(node: ast.AST, what: str) -> None:
        found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(FORBIDDEN_MODULES) or alias.name == "bookings.models":
                    # `import bookings.models` puts `bookings.models.Financials` in reach.
                    say(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _module_of(node, path, root)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if module.startswith(FORBIDDEN_MODULES) or full.startswith(FORBIDDEN_MODULES):
                    say(node, f"from {module} import {alias.name}")
                elif full == "bookings.models":
                    say(node, "from bookings import models")
                elif alias.name in FORBIDDEN_NAMES:
                    say(node, f"from {module} import {alias.name}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            say(node, f"name {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            say(node, f"attribute .{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg in FORBIDDEN_NAMES:
            say(node, f"keyword {node.arg}=")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # apps.get_model("bookings", "Financials"), getattr(b, "gross_revenue"), "financials__x"
            words = set(re.split(r"[^A-Za-z_]+|__", node.value))
            if words & FORBIDDEN_NAMES:
                say(node, f"string {node.value!r}")
    return found


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_crew_and_guest_code_does_not_reach_money(path):
    assert violations(path) == []


def test_crew_and_guest_templates_name_no_money():
    files = template_files()
    # guests' page and email exist from the start; crew's arrive with the portal.
    assert any("guests" in str(p) for p in files), files
    hits = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in files
        for m in TEMPLATE_WORDS.finditer(p.read_text(errors="replace"))
    ]
    assert hits == []


def test_the_checker_catches_every_spelling(tmp_path):
    """The walker above is only worth its silence if it would have spoken."""
    (tmp_path / "crew").mkdir()
    sample = tmp_path / "crew" / "probe.py"
    cases = {
        "from bookings.models import Financials": 1,
        "from bookings import money": 1,
        "import bookings.services as s": 1,
        "from bookings import models": 1,
        "import bookings.models": 1,
        "from bookings.money import settle": 1,
        "x = booking.financials.net_revenue": 2,
        "from django.apps import apps\napps.get_model('bookings', 'Financials')": 1,
        "qs.values('financials__gross_revenue')": 1,
        "Thing(crew_cost=1)": 1,
        "from ..bookings import money": 1,
        "from jada import summary": 1,
        "from jada.summary import summary_send": 1,
        "import jada.api.serializers": 1,
        "from jada.intake import booking_intake": 1,
        "from jada import pipeline": 0,
        "from bookings.selectors import OperationalBooking, booking_operational": 0,
    }
    for source, expected in cases.items():
        sample.write_text(source + "\n")
        found = violations(sample, root=tmp_path)
        assert len(found) == expected, (source, found)


def test_the_operational_projection_carries_no_money():
    names = {f.name for f in fields(OperationalBooking)}
    assert names, "the projection has no fields?"
    assert not names & FORBIDDEN_NAMES
    assert not [n for n in names if looks_like_money(n)], names
    assert "internal_notes" not in names


@pytest.mark.parametrize("label", APPS)
def test_crew_and_guest_models_store_no_money(label):
    models_of_app = list(apps.get_app_config(label).get_models())
    assert models_of_app
    bookings_models = set(apps.get_app_config("bookings").get_models())
    problems = []
    for model in models_of_app:
        for field in model._meta.get_fields():
            where = f"{model.__name__}.{field.name}"
            if isinstance(field, models.DecimalField | models.FloatField):
                problems.append(f"{where}: {type(field).__name__}")
            if looks_like_money(field.name):
                problems.append(f"{where}: money-looking name")
            # No ORM path from crew or guests into the ledger (so none to Financials either).
            if field.is_relation and field.related_model in bookings_models:
                problems.append(f"{where}: relation to {field.related_model.__name__}")
    assert problems == []


# --- The direction of dependencies (README.md, "Architecture") ----------------------------------
# bookings imports none of the other apps; crew and guests import bookings (its selectors) but
# never jada, the one app that knows every stage. Inside a function counts as much as at the top.
NOT_IMPORTED_BY = {
    "bookings": ("jada", "crew", "guests"),
    "crew": ("jada",),
    "guests": ("jada",),
}
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__", "get_model", "import_string"})


def _names(module: str, forbidden: tuple[str, ...]) -> bool:
    return module.split(".")[0] in forbidden


def direction_violations(path: Path, root: Path = ROOT) -> list[str]:
    app = path.relative_to(root).parts[0]
    forbidden = NOT_IMPORTED_BY[app]
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _module_of(node, path, root)
            modules = [module, *(".".join(filter(None, (module, a.name))) for a in node.names)]
        elif isinstance(node, ast.Call):
            # importlib.import_module("jada.x"), apps.get_model("crew", "Assignment"), ...
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in DYNAMIC_IMPORTS and node.args and isinstance(node.args[0], ast.Constant):
                modules = [str(node.args[0].value)]
        if any(_names(module, forbidden) for module in modules if module):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def app_python_files() -> list[Path]:
    found = sorted(p for app in NOT_IMPORTED_BY for p in (ROOT / app).rglob("*.py"))
    assert len(found) >= 30, f"walked too little: {found}"
    return found


@pytest.mark.parametrize("path", app_python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_apps_import_only_in_the_direction_of_the_diagram(path):
    assert direction_violations(path) == []


def test_the_direction_checker_catches_every_spelling(tmp_path):
    """Every way one module can reach another, at the top of a file or inside a function."""
    for app in NOT_IMPORTED_BY:
        (tmp_path / app).mkdir()
    cases = {
        ("bookings", "from jada import pipeline"): 1,
        ("bookings", "def f():\n    from jada import pipeline\n    return pipeline"): 1,
        ("bookings", "import crew.selectors"): 1,
        ("bookings", "from guests.models import GuestPage"): 1,
        ("bookings", "from .. import jada"): 1,
        ("bookings", "import importlib\nimportlib.import_module('jada.pipeline')"): 1,
        ("bookings", "from django.apps import apps\napps.get_model('crew', 'Assignment')"): 1,
        ("crew", "from jada.pipeline import start"): 1,
        ("crew", "def f():\n    import jada.pipeline"): 1,
        ("guests", "from jada import pipeline"): 1,
        # Allowed: within the app, bookings' selectors, and words that are not imports.
        ("bookings", "from bookings.selectors import booking_operational"): 0,
        ("bookings", "# the pipeline (jada) starts after the save\nx = 'crew'"): 0,
        ("crew", "from bookings.selectors import OperationalBooking"): 0,
        ("guests", "from crew.models import CrewMember"): 0,
    }
    for (app, source), expected in cases.items():
        sample = tmp_path / app / "probe.py"
        sample.write_text(source + "\n")
        found = direction_violations(sample, root=tmp_path)
        assert len(found) == expected, (app, source, found)


@pytest.mark.parametrize(
    ("app", "pattern"),
    [
        ("bookings", r"(from|import) (jada|crew|guests)"),
        ("crew", r"(from|import) jada"),
        ("guests", r"(from|import) jada"),
    ],
)
def test_the_diagrams_grep_finds_nothing(app, pattern):
    """The dependency diagram checked as plain text: not even a name that starts like an app."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / app).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert not found, found
