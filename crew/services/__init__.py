"""Writes to the crew's side, one module per concern; the public names are re-exported here.

* events.py: the crew event of a booking and its assignments (`crew_event_sync`);
* checklists.py: each assignment's checklist items from the templates;
* notify.py: the crew's new/changed/cancelled emails (`crew_notify`);
* portal.py: what crew do in the portal (answer, tick);
* roster.py: members, their users, feed secrets and links;
* links.py: "Email me a new link"; reminders.py: the day-before and unanswered reminders.

Crew code receives a booking only as `bookings.selectors.OperationalBooking`.
"""

from __future__ import annotations

from crew.services.checklists import (
    checklist_items_create,
    checklist_sync,
    checklists_resync,
    render_checklist_text,
)
from crew.services.events import (
    CALL_LEAD,
    EVENT_NOTIFY_FIELDS,
    CrewSyncResult,
    PlannedAssignment,
    crew_event_sync,
    crew_events_create_many,
    default_shift_minutes,
    member_codes_unknown,
)
from crew.services.links import (
    LINK_REQUEST_WINDOW,
    LINK_REQUESTS_PER_ADDRESS,
    LINK_REQUESTS_PER_CLIENT,
    link_request,
    link_send,
)
from crew.services.notify import assignment_snapshot, crew_notify, snapshot_changes
from crew.services.portal import NotAllowed, assignment_respond, checklist_item_tick
from crew.services.reminders import reminders_send
from crew.services.roster import (
    crew_member_create,
    crew_member_save,
    crew_user_create,
    member_feed_token_regenerate,
    member_links_revoke,
    member_upcoming_events,
)

__all__ = [
    "CALL_LEAD",
    "EVENT_NOTIFY_FIELDS",
    "LINK_REQUESTS_PER_ADDRESS",
    "LINK_REQUESTS_PER_CLIENT",
    "LINK_REQUEST_WINDOW",
    "CrewSyncResult",
    "NotAllowed",
    "PlannedAssignment",
    "assignment_respond",
    "assignment_snapshot",
    "checklist_item_tick",
    "checklist_items_create",
    "checklist_sync",
    "checklists_resync",
    "crew_event_sync",
    "crew_events_create_many",
    "crew_member_create",
    "crew_member_save",
    "crew_notify",
    "crew_user_create",
    "default_shift_minutes",
    "link_request",
    "link_send",
    "member_codes_unknown",
    "member_feed_token_regenerate",
    "member_links_revoke",
    "member_upcoming_events",
    "reminders_send",
    "render_checklist_text",
    "snapshot_changes",
]
