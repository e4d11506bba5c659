"""What crew code tells the rest of the project, which it may not import: pipeline, ledger."""

from __future__ import annotations

from django.dispatch import Signal

# A crew member's own change of a charter's crew (taking an open shift, declining or taking a
# decline back), sent inside the change's transaction with `booking_id`, `before` and `after`
# (rows as `crew.selectors.crew_roster` reads them) and `by_name` (the member's name). The
# pipeline writes it to the booking's audit log.
crew_changed_by_member = Signal()

# An operator's change of a charter's crew made on crew's side (deactivating a member opens their
# places), sent inside the change's transaction with `booking_id`, `before`, `after`, `by` (the
# operator's user, or None) and `via`. The pipeline writes it to the booking's audit log.
crew_changed_by_operator = Signal()
