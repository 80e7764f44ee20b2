"""Days as listings give them and users type them: one parser for every date the tool reads.

* :func:`parse_day` reads what a user types for a day (``2024-10-25``, ``today``,
  ``yesterday``) and raises ``ValueError`` with a one-line message otherwise;
* :func:`day_of` reads the day of a timestamp a source gives (``2024-10-25T00:57:09.392Z``,
  a ``datetime``), in UTC;
* :func:`page_day` reads the date header of a pasted Hugging Face page (``Mar 14``,
  ``Mar 14, 2024``): a header without a year is taken as the latest such day not after
  the reference day (today), which is right for a page pasted the day it was listed.

Days are ``datetime.date``; they are stored and shown as ISO text (``YYYY-MM-DD``), which
sorts as dates do.

Example:
    >>> import datetime as dt
    >>> parse_day("yesterday", today=dt.date(2024, 10, 26)), day_of("2024-10-25T00:57:09.392Z")
    (datetime.date(2024, 10, 25), datetime.date(2024, 10, 25))
    >>> page_day("Mar 14", today=dt.date(2024, 3, 1)), page_day("Sept 3, 2023")
    (datetime.date(2023, 3, 14), datetime.date(2023, 9, 3))
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["day_of", "page_day", "parse_day", "utc_today", "week_of"]

_MONTHS = {name: i for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_PAGE_DATE = re.compile(r"([a-z]{3})[a-z]*\.? (\d{1,2})(?:,? (\d{4}))?", re.IGNORECASE)


def utc_today() -> dt.date:
    """Today in UTC: the day the listings (Hugging Face, arXiv) count in."""
    return dt.datetime.now(dt.timezone.utc).date()


def parse_day(text: str | dt.date, *, today: dt.date | None = None) -> dt.date:
    """A day a user typed: ``YYYY-MM-DD``, ``today`` or ``yesterday`` (UTC).

    Example:
        >>> parse_day("2024-10-25")
        datetime.date(2024, 10, 25)
    """
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    word = str(text).strip().lower()
    now = today or utc_today()
    if word == "today":
        return now
    if word == "yesterday":
        return now - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        raise ValueError(f"{text!r} is not a day; give YYYY-MM-DD, today or yesterday") from None


def week_of(text: str) -> str:
    """An ISO week as the Hugging Face API takes it (``2024-W43``), from ``2024-W43`` or
    from a day in it (``2024-10-25``, ``today``)."""
    match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.IGNORECASE)
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{text!r}: week {week} does not exist in {year}") from None
        return f"{year}-W{week:02d}"
    try:
        year, week, _ = parse_day(text).isocalendar()
    except ValueError:
        raise ValueError(f"{text!r} is not a week; give YYYY-Www (2024-W43) or a day in it") from None
    return f"{year}-W{week:02d}"


def day_of(value: object) -> dt.date | None:
    """The UTC day of a timestamp (ISO 8601 text, a ``datetime``, a ``date``); None for
    anything else."""
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo is None else value.astimezone(dt.timezone.utc)
        return stamp.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return day_of(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def page_day(text: str, *, today: dt.date | None = None) -> dt.date | None:
    """The day a pasted page's date header names (``Mar 14``, ``Mar 14, 2024``); None when
    ``text`` is not one. Without a year: the latest such day not after ``today``."""
    match = _PAGE_DATE.fullmatch(text.strip())
    if not match or match[1].lower() not in _MONTHS:
        return None
    month, day = _MONTHS[match[1].lower()], int(match[2])
    now = today or utc_today()
    years = [int(match[3])] if match[3] else [now.year, now.year - 1, now.year - 2, now.year - 3, now.year - 4]
    for year in years:
        try:
            found = dt.date(year, month, day)
        except ValueError:  # Feb 29 of a year without one
            continue
        if match[3] or found <= now:
            return found
    return None
