"""English formats with the time zone's abbreviation on every date and time the admin shows.

Times are shown in the operator's zone (TIME_ZONE); the abbreviation (PST, PDT) says so.
"""

DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
TIME_FORMAT = "P T"
