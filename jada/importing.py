"""Many payloads in a row (the CSV import): the intake's outcomes, with far fewer statements.

Payloads are validated against the docks and the roster read once (`intake_lookups`). A payload
whose booking is not on file waits in a batch, saved with one statement per table
(`intakes_save_new`); one naming a booking on file, or named earlier, is saved alone after the
batch before it, exactly as the API saves it. Each payload's result is what `booking_intake` on
each in turn would give, and results come back in the order the payloads were given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bookings.models import Booking
from crew.availability import events_availability_warnings
from crew.selectors import events_overlap_warnings
from jada.intake import (
    IntakeRejected,
    IntakeResult,
    ValidIntake,
    intake_result,
    intake_save,
    intake_validate,
    model_errors,
)
from jada.lookups import intake_lookups
from jada.services import BookingCreated, bookings_save_new

T = TypeVar("T")
Outcome = IntakeResult | IntakeRejected | None
# Payloads validated, looked up and saved together; a batch is one transaction.
BATCH_SIZE = 500


def intakes_save_new(
    valids: Sequence[ValidIntake],
    *,
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
) -> list[IntakeResult | IntakeRejected]:
    """`intake_save` for validated payloads whose bookings are not on file, in one transaction.

    Each comes back as its result or as the rejection of its own row (nothing of it written).
    Raises IntegrityError, having written nothing, when one of the bookings was created
    meanwhile: save them one by one then. Warnings are as if each had been saved in turn.
    """
    with transaction.atomic():
        saved = bookings_save_new(
            items=[(valid.data, valid.plan) for valid in valids], by=by, via=via, by_name=by_name
        )
        created = [s for s in saved if isinstance(s, BookingCreated) and s.crew is not None]
        rosters = [(s.crew.event, s.crew.added) for s in created]
        warnings = iter(
            [*overlaps, *away]
            for overlaps, away in zip(
                events_overlap_warnings(rosters), events_availability_warnings(rosters), strict=True
            )
        )
    return [
        IntakeRejected(model_errors(s))
        if isinstance(s, ValidationError)
        else intake_result(s, next(warnings))
        for s in saved
    ]


def _one_by_one(
    valids: Sequence[ValidIntake], *, by: AbstractBaseUser | None = None, via: str, by_name: str
) -> list[IntakeResult | IntakeRejected]:
    results: list[IntakeResult | IntakeRejected] = []
    for valid in valids:
        try:
            results.append(intake_save(valid, by=by, via=via, by_name=by_name))
        except IntakeRejected as e:
            results.append(e)
    return results


def intake_many(
    items: Iterable[tuple[T, Any]],
    *,
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
) -> Iterator[tuple[T, Outcome]]:
    """(tag, payload) → (tag, result or rejection), in order; a None payload is passed through.

    `by`: the signed-in user the audit log records (the admin's import), beside `by_name`.
    """
    items = iter(items)
    with intake_lookups():
        while window := list(islice(items, BATCH_SIZE)):
            yield from _window(window, by=by, via=via, by_name=by_name)


def _window(
    window: list[tuple[T, Any]], *, by: AbstractBaseUser | None, via: str, by_name: str
) -> Iterator[tuple[T, Outcome]]:
    checked: list[tuple[T, ValidIntake | Outcome]] = []
    for tag, payload in window:
        if payload is None:
            checked.append((tag, None))
            continue
        try:
            checked.append((tag, intake_validate(payload)))
        except IntakeRejected as e:
            checked.append((tag, e))
    valids = [v for _, v in checked if isinstance(v, ValidIntake)]
    refs = {v.data.external_ref for v in valids}
    on_file = set(
        Booking.objects.filter(external_ref__in=refs).values_list("source", "external_ref")
    )
    waiting: list[tuple[T, ValidIntake | Outcome]] = []  # in order; a ValidIntake: batched

    def flush() -> Iterator[tuple[T, Outcome]]:
        batch = [v for _, v in waiting if isinstance(v, ValidIntake)]
        if batch:
            try:
                saved = intakes_save_new(batch, by=by, via=via, by_name=by_name)
            except IntegrityError:
                # Created meanwhile by someone else: each as the API would save it.
                saved = _one_by_one(batch, by=by, via=via, by_name=by_name)
            results = iter(saved)
        for tag, value in waiting:
            yield tag, next(results) if isinstance(value, ValidIntake) else value
        waiting.clear()

    for tag, value in checked:
        if not isinstance(value, ValidIntake):
            waiting.append((tag, value))
            continue
        key = (value.data.source, value.data.external_ref)
        if key not in on_file:
            on_file.add(key)  # a later row naming it updates it, after this batch
            waiting.append((tag, value))
            continue
        yield from flush()
        yield tag, _one_by_one([value], by=by, via=via, by_name=by_name)[0]
    yield from flush()
