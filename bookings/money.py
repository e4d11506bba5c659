"""The one place fee and net revenue are computed."""

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
