"""Matching the names a planner types (districts, communes, provinces) to the names a scenario or a
register knows: case, diacritics and spacing ignored, so "Mai Chau" finds "Mai Châu"."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """Lower case, no diacritics (đ -> d), words separated by single spaces: the key names are matched on."""
    text = unicodedata.normalize("NFD", str(text).lower().replace("đ", "d").replace("Đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """The known name that `name` most likely means ("" if none is close): the same name once folded,
    else the closest folded spelling."""
    by_folded: dict[str, str] = {}
    for k in sorted(known):
        by_folded.setdefault(fold(k), k)
    folded = fold(name)
    if folded in by_folded and by_folded[folded] != name:
        return by_folded[folded]
    close = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=0.6)
    return by_folded[close[0]] if close and by_folded[close[0]] != name else ""
