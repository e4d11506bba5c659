from decimal import Decimal

import pytest

from bookings.money import settle


def test_it_computes_the_writeup_figures():
    result = settle(
        gross_revenue=Decimal("840.75"),
        crew_cost=Decimal("250.00"),
        captain_cost=Decimal("150.00"),
        fee_percent=Decimal("18"),
    )
    assert result.fee == Decimal("151.34")
    assert result.net_revenue == Decimal("289.41")


def test_it_rounds_the_fee_half_up_to_the_cent():
    # 0.125 exactly: banker's rounding would give 0.12.
    result = settle(
        gross_revenue=Decimal("1.25"),
        crew_cost=Decimal("0"),
        captain_cost=Decimal("0"),
        fee_percent=Decimal("10"),
    )
    assert result.fee == Decimal("0.13")
    assert result.net_revenue == Decimal("1.12")


def test_it_refuses_floats():
    with pytest.raises(TypeError):
        settle(
            gross_revenue=840.75,  # type: ignore[arg-type]
            crew_cost=Decimal("0"),
            captain_cost=Decimal("0"),
            fee_percent=Decimal("18"),
        )
