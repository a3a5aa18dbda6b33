"""Japanese dates: the era (令和, 平成, 昭和) and the weekday, as the minutes write them."""

from __future__ import annotations

from datetime import date

_ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))
_WEEKDAYS_JA = "月火水木金土日"


def japanese_date(d: date) -> str:
    """令和8年11月26日 for 2026-11-26; the first year of an era is 元年."""
    for start, era in _ERAS:
        if d >= start:
            n = d.year - start.year + 1
            return f"{era}{'元' if n == 1 else n}年{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


def long_date(d: date, lang: str) -> str:
    if lang == "ja":
        return f"{japanese_date(d)}({_WEEKDAYS_JA[d.weekday()]})"
    return f"{d:%A} {d.day} {d:%B %Y}"
