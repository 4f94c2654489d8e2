"""Words that OCR ran together, split again for search.

Small or tightly set text comes out of OCR without its spaces: "NoahAcheampong09:42" for a chat
author and time, "CourtyardRoomsRiga", "Wed4Mar". Searched as one token, "Noah" never matches it.
The split forms are indexed beside the screen's text (in its search context, never shown); the
text itself keeps what OCR read, so a search for the joined word ("PyIndex") still finds it.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]{4,}", re.UNICODE)  # letters and digits; "_" keeps identifiers whole
# a lower-case letter then an upper-case one, or a letter next to a digit
_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
MAX_WORDS = 400


def split_joined(text: str) -> str:
    """The parts of ``text``'s run-together words, space-separated ("" when there are none)."""
    out: list[str] = []
    seen: set[str] = set()
    for token in _TOKEN.findall(text):
        parts = [p for p in _BOUNDARY.split(token) if p]
        if len(parts) < 2 or token in seen:
            continue
        seen.add(token)
        out.extend(parts)
        if len(out) >= MAX_WORDS:
            break
    return " ".join(out)
