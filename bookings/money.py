"""The one place fee and net revenue are computed, and money is written as text."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Settlement:
    fee: Decimal
    net_revenue: Decimal


def settle(
    *, gross_revenue: Decimal, crew_cost: Decimal, captain_cost: Decimal, fee_percent: Decimal
) -> Settlement:
    """Fee is half-up to the cent on gross * percent; net is what remains after costs and fee."""
    for value in (gross_revenue, crew_cost, captain_cost, fee_percent):
        if not isinstance(value, Decimal):
            # Floats would silently lose cents; refuse them at the boundary.
            raise TypeError(f"money must be Decimal, not {type(value).__name__}")
    fee = (gross_revenue * fee_percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    net = (gross_revenue - crew_cost - captain_cost - fee).quantize(CENT, rounding=ROUND_HALF_UP)
    return Settlement(fee=fee, net_revenue=net)


def money_text(value: Decimal | None, currency: str = "") -> str:
    """'1,234.56' (or '1,234.56 USD' with a currency); '—' for no amount."""
    if value is None:
        return "—"
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def money_json(value: Decimal | None) -> str | None:
    """'1234.56': the exact string machines read (never a float); None stays None."""
    return None if value is None else str(Decimal(value).quantize(CENT))
