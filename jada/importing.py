"""Many payloads in a row (the CSV import): the intake's outcomes, with far fewer statements.

Payloads are validated against the docks and the roster read once (`intake_lookups`). Those
whose bookings are not on file are planned together (`jada.import_plan`: every check and every
warning, from reads alone) and the plan is written with one statement per table
(`intakes_save_new`); a payload naming a booking on file, or named earlier, is saved alone after
the plan before it, exactly as the API saves it. Each payload's result is what `booking_intake`
on each in turn would give, and results come back in the order the payloads were given.

A dry run plans and writes nothing: its new bookings' results are the plan's, as the import's
are. Only a row the plan cannot answer (one naming a booking on file, or amending a planned one
in a way that needs the write) makes it write the plan and save that row for real, inside the
caller's transaction, which the caller rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from bookings.models import Booking
from jada.import_plan import ImportPlan, Key
from jada.intake import IntakeRejected, IntakeResult, ValidIntake, intake_save, intake_validate
from jada.lookups import intake_lookups

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
    plan: ImportPlan | None = None,
) -> list[IntakeResult | IntakeRejected]:
    """`intake_save` for validated payloads whose bookings are not on file, in one transaction.

    Planned (on `plan`, which starts empty), then written as planned; each comes back as its
    result or as the rejection of its own row (nothing of it written). Raises IntegrityError,
    having written nothing, when one of the bookings was created meanwhile: save them one by
    one then. Warnings are as if each had been saved in turn.
    """
    plan = plan or ImportPlan()
    try:
        with transaction.atomic():
            results = plan.plan_new(valids)
            written = plan.apply(by=by, via=via, by_name=by_name)
    finally:
        plan.reset()
    return [_written(result, written) for result in results]


def _written(result: IntakeResult | IntakeRejected, written: dict) -> IntakeResult | IntakeRejected:
    if isinstance(result, IntakeRejected):
        return result
    booking, run, _ = written[(result.booking.source, result.booking.external_ref)]
    return replace(result, booking=booking, run=run)


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
    dry_run: bool = False,
) -> Iterator[tuple[T, Outcome]]:
    """(tag, payload) → (tag, result or rejection), in order; a None payload is passed through.

    `by`: the signed-in user the audit log records (the admin's import), beside `by_name`.
    `dry_run`: plan only (see above); call it inside a transaction that is rolled back.
    """
    items = iter(items)
    with intake_lookups():
        importer = _Importer(by=by, via=via, by_name=by_name, dry_run=dry_run)
        while window := list(islice(items, BATCH_SIZE)):
            yield from importer.window(window)


class _Importer:
    def __init__(
        self, *, by: AbstractBaseUser | None, via: str, by_name: str, dry_run: bool
    ) -> None:
        self.by, self.via, self.by_name, self.dry_run = by, via, by_name, dry_run
        self.plan = ImportPlan(expect_ids=dry_run)
        self.waiting: list[tuple[Any, ValidIntake | Outcome]] = []  # in order; valid: to plan
        self.waiting_keys: set[Key] = set()
        self.on_file: set[Key] = set()

    def window(self, window: list[tuple[T, Any]]) -> Iterator[tuple[T, Outcome]]:
        checked: list[tuple[T, ValidIntake | Outcome]] = []
        for tag, payload in window:
            if payload is None:
                checked.append((tag, None))
                continue
            try:
                checked.append((tag, intake_validate(payload)))
            except IntakeRejected as e:
                checked.append((tag, e))
        refs = {v.data.external_ref for _, v in checked if isinstance(v, ValidIntake)}
        self.on_file |= set(
            Booking.objects.filter(external_ref__in=refs).values_list("source", "external_ref")
        )
        for tag, value in checked:
            if isinstance(value, ValidIntake):
                yield from self.row(tag, value)
            else:
                self.waiting.append((tag, value))
        yield from self.flush()

    def row(self, tag: T, valid: ValidIntake) -> Iterator[tuple[T, Outcome]]:
        key = (valid.data.source, valid.data.external_ref)
        if key in self.waiting_keys:
            yield from self.flush()  # named twice: the first is planned before the second
        if key in self.plan.pending:  # a dry run's booking planned earlier
            yield from self.flush()  # the rows before this one come first
            amended = self.plan.amend(valid)
            if amended is not None:
                yield tag, amended
                return
        if key in self.on_file or key in self.plan.pending:
            yield from self.flush()
            self.write_plan()
            yield tag, self.one_by_one([valid])[0]
            return
        self.waiting.append((tag, valid))
        self.waiting_keys.add(key)

    def flush(self) -> Iterator[tuple[T, Outcome]]:
        """Plan the rows waiting (and, importing, write them); their results in order."""
        batch = [v for _, v in self.waiting if isinstance(v, ValidIntake)]
        if batch and self.dry_run:
            results = iter(self.plan.plan_new(batch))
        elif batch:
            try:
                saved = intakes_save_new(
                    batch, by=self.by, via=self.via, by_name=self.by_name, plan=self.plan
                )
            except IntegrityError:
                # Created meanwhile by someone else: each as the API would save it.
                saved = self.one_by_one(batch)
            self.on_file |= {
                (s.booking.source, s.booking.external_ref)
                for s in saved
                if isinstance(s, IntakeResult)
            }
            results = iter(saved)
        waiting, self.waiting = self.waiting, []
        self.waiting_keys.clear()
        for tag, value in waiting:
            yield tag, next(results) if isinstance(value, ValidIntake) else value

    def write_plan(self) -> None:
        """A dry run's plan, written (in its rolled-back transaction) for a row that needs it."""
        planned = list(self.plan.pending.values())
        if not planned:
            return
        self.on_file |= set(self.plan.pending)
        try:
            with transaction.atomic():
                self.plan.apply(by=self.by, via=self.via, by_name=self.by_name)
        except IntegrityError:
            # Written meanwhile by someone else: the rows as the API would save them.
            self.one_by_one([ValidIntake(data=p.data, plan=p.plan) for p in planned])

    def one_by_one(self, valids: Sequence[ValidIntake]) -> list[IntakeResult | IntakeRejected]:
        return _one_by_one(valids, by=self.by, via=self.via, by_name=self.by_name)
