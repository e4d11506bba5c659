"""Template filters for crew pages and emails: times in the operator's zone, zone named."""

from __future__ import annotations

from django import template

from bookings import formatting

register = template.Library()

register.filter("crew_date", formatting.date_text)
register.filter("crew_time", formatting.time_text)
register.filter("crew_when", formatting.when_text)
register.filter("crew_minutes", formatting.minutes_text)
