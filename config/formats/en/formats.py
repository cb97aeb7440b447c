"""English formats that read one way only: 7 Dec 2026 and 7 Dec 2026 09:27 (Django's US
defaults, 12/07/2026 and 9:27 a.m., are read as 12 July elsewhere). Typed dates are day-first,
as in Vietnamese (07/12/2026 is 7 December): the same school, whichever language the page is in."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "j M Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d %b %Y", "%d %B %Y"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d %b %Y %H:%M",
]
FIRST_DAY_OF_WEEK = 1
