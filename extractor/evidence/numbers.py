"""Numbers in prose and in values, read as canonical decimals (``1,000.50`` -> ``1000.5``,
``72.0`` -> ``72``), never rescaled: :func:`numbers_in` (every run of digits of a value),
:func:`prose_numbers` (the numbers standing on their own in an abstract, tokenised ones
joined), :func:`canon_number`, :func:`canon_magnitude` and :func:`number_value`.

Example:
    >>> numbers_in("+0.8% absolute"), canon_number("1,000.50")
    (('0.8',), '1000.5')
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = ["canon_magnitude", "canon_number", "number_value", "numbers_in", "prose_numbers"]

# Numbers in prose: not glued to a preceding letter or digit ("A100", "I3D"), except a
# lone multiplication "x" ("x3"); thousands separators kept for now.
_PROSE_NUMBER = re.compile(r"(?:(?<![\w.])|(?<=\bx))(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)")
# Numbers in a value: every run of digits counts, wherever it stands.
_VALUE_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
# Tokenised numbers: "0. 447", "5, 000".
_JOIN_DECIMAL = re.compile(r"(?<=\d)\s*\.\s+(?=\d)|(?<=\d)\s+\.\s*(?=\d)")
_JOIN_THOUSANDS = re.compile(r"(?<=\d)\s*,\s+(?=\d{3}(?!\d))")


def canon_number(number: str) -> str:
    """A written decimal as a canonical string: thousands separators dropped, trailing
    zeros and a bare leading point settled.

    Example:
        >>> canon_number("1,000.50"), canon_number("72.0"), canon_number(".5")
        ('1000.5', '72', '0.5')
    """
    try:
        value = Decimal(number.replace(",", "")).normalize()
    except InvalidOperation:
        return number
    return format(value, "f")


def canon_magnitude(magnitude: float) -> str | None:
    """The absolute value of a number as :func:`canon_number` writes it; None for a
    non-number, NaN or infinity.

    Example:
        >>> canon_magnitude(-4.50), canon_magnitude(72.0), canon_magnitude(float("nan"))
        ('4.5', '72', None)
    """
    if not isinstance(magnitude, (int, float)) or isinstance(magnitude, bool):
        return None
    if math.isnan(magnitude) or math.isinf(magnitude):
        return None
    return canon_number(repr(abs(float(magnitude))))


def numbers_in(value: str) -> tuple[str, ...]:
    """The numbers of a value (a claimed gain) as canonical decimals, in order: every
    run of digits counts; signs, units and words are ignored.

    Example:
        >>> numbers_in("+0.8% absolute"), numbers_in("4.5 times"), numbers_in("1,000 images")
        (('0.8',), ('4.5',), ('1000',))
    """
    value = unicodedata.normalize("NFKC", value)
    return tuple(canon_number(n) for n in _VALUE_NUMBER.findall(value))


def prose_numbers(text: str, *, tokenised: bool = True) -> frozenset[str]:
    """The numbers standing on their own in prose, as canonical decimals: digits glued to
    a letter (``A100``, ``I3D``) are a name, not a number. With ``tokenised``, numbers a
    tokeniser split (``0. 447``, ``5, 000``) are read joined as well as written.

    Example:
        >>> sorted(prose_numbers("Kinetics-400 at 1,000 fps on A100 GPUs, 0. 5x faster"))
        ['0', '0.5', '1000', '400', '5']
    """
    text = unicodedata.normalize("NFKC", text)
    found = {canon_number(n) for n in _PROSE_NUMBER.findall(text)}
    if tokenised:
        joined = _JOIN_THOUSANDS.sub(",", _JOIN_DECIMAL.sub(".", text))
        if joined != text:
            found.update(canon_number(n) for n in _PROSE_NUMBER.findall(joined))
    return frozenset(found)


def number_value(written: str) -> float | None:
    """The signed value of a number as written with its unit, or None.

    Example:
        >>> number_value("+0.8%"), number_value("−4.5x"), number_value("1,000"), number_value("x")
        (0.8, -4.5, 1000.0, None)
    """
    digits = re.sub(r"[^\d.\-]", "", written.replace(",", "").replace("−", "-"))
    try:
        return float(digits)
    except ValueError:
        return None
