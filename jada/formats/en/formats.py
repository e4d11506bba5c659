"""English formats for the admin: the shape the booking pages use, with the zone's abbreviation.

Times are shown in the operator's zone (TIME_ZONE); the abbreviation (PST, PDT) says so, and
"Sun 2026-12-13 09:00 PST" reads the same on every admin page.
"""

DATETIME_FORMAT = "D Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i T"
