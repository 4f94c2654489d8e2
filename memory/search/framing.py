"""The words a question uses to ask about the screen, not about what was on it.

"Which article did I have open Thursday morning?" asks for an article; "open" says only that it
was on the screen, yet as a search word it matches every editor's "Open Editors" and every
`open(` in code. Such framing words are left out of the word match (the query's vector keeps the
whole question).
"""

from __future__ import annotations

import re

# "did I have open", "I had open", "left open", "kept open": open = on the screen
_OPEN = re.compile(r"\b(?:have|had|has|having|left|kept|keep)\s+(?:it\s+|them\s+)?open\b")


def lexical_words(text: str) -> str:
    """``text`` as searched by words, framing words left out."""
    return _OPEN.sub(lambda m: m.group(0)[: m.group(0).rfind("open")], text)
