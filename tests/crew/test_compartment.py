"""Crew code stores no money, imports nothing that holds it, and names no money field."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from tests.factories import looks_like_money

ROOT = Path(__file__).resolve().parents[2]
CREW = ROOT / "crew"

# The ledger's money fields and the names that reach them.
MONEY_NAMES = frozenset(
    {
        "Financials",
        "financials",
        "gross_revenue",
        "crew_cost",
        "captain_cost",
        "fee_percent",
        "fee",
        "net_revenue",
        "port_fee",
        "port_fee_percent",
        "currency",
    }
)
# Modules of bookings that crew may import: the operational projection, and the time
# formatting every app shares (it holds no money; money text lives in bookings.money).
ALLOWED_BOOKINGS_MODULES = frozenset({"bookings.selectors", "bookings.formatting"})


def crew_modules() -> list[Path]:
    found = sorted(CREW.rglob("*.py"))
    assert len(found) >= 12, found
    return found


def problems_in(source: str, name: str = "<probe>") -> list[str]:
    tree = ast.parse(source, filename=name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bookings") and alias.name not in ALLOWED_BOOKINGS_MODULES:
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.startswith("bookings"):
                # `from bookings import selectors` names the module it imports.
                named = [f"{module}.{a.name}" for a in node.names] if module == "bookings" else []
                if module not in ALLOWED_BOOKINGS_MODULES and not (
                    named and set(named) <= ALLOWED_BOOKINGS_MODULES
                ):
                    found.append(f"from {module} import ...")
            found += [f"imports {a.name}" for a in node.names if a.name in MONEY_NAMES]
        elif isinstance(node, ast.Name) and node.id in MONEY_NAMES:
            found.append(f"name {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in MONEY_NAMES:
            found.append(f"attribute .{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg in MONEY_NAMES:
            found.append(f"keyword {node.arg}=")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            words = set(re.split(r"[^A-Za-z_]+|__", node.value))
            if words & (MONEY_NAMES - {"fee", "currency"}):
                found.append(f"string {node.value[:40]!r}")
    return found


@pytest.mark.parametrize("path", crew_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_crew_module_reaches_money(path):
    assert problems_in(path.read_text(), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "from bookings.models import Financials",
        "import bookings.models",
        "from bookings import services",
        "from bookings.services import booking_upsert",
        "x = booking.financials.gross_revenue",
        "Assignment.objects.values('event__financials__net_revenue')",
        "Thing(crew_cost=1)",
    ],
)
def test_the_checker_would_catch_it(source):
    assert problems_in(source)


def test_the_checker_allows_the_projection():
    assert problems_in("from bookings.selectors import OperationalBooking") == []


def test_no_crew_model_field_is_a_money_field():
    crew_models = list(apps.get_app_config("crew").get_models())
    assert len(crew_models) >= 6
    ledger = set(apps.get_app_config("bookings").get_models())
    for model in crew_models:
        for field in model._meta.get_fields():
            where = f"{model.__name__}.{field.name}"
            assert field.name not in MONEY_NAMES, where
            assert not looks_like_money(field.name), where
            assert not isinstance(field, models.DecimalField | models.FloatField), where
            assert not (field.is_relation and field.related_model in ledger), where


def test_crew_templates_name_no_money():
    files = [
        *(ROOT / "templates" / "crew").rglob("*.*"),
        *(ROOT / "templates" / "emails").glob("crew-*"),
    ]
    assert len(files) >= 20
    pattern = re.compile(
        r"financials|gross_revenue|net_revenue|crew_cost|captain_cost|port_fee|fee_percent", re.I
    )
    assert [str(f) for f in files if pattern.search(f.read_text())] == []


def test_the_shared_formatting_module_holds_no_money():
    # Crew may import it, so it passes the same reading as crew's own modules.
    path = ROOT / "bookings" / "formatting.py"
    assert problems_in(path.read_text(), str(path)) == []
