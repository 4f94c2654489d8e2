"""The words a question uses to ask about the screen, not about what was on it.

"Which article did I have open Thursday morning?" asks for an article; "open" says only that it
was on the screen, yet as a search word it matches every editor's "Open Editors" and every
`open(` in code. Such framing words are left out of the word match (the query's vector keeps the
whole question). And "my flight" is, on the screen that holds it, "Your trip": pages address the
user as "you", while "my" on a screen is usually someone else's (a colleague's mail about *their*
flight), so a question's "my" also looks for "your".
"""

from __future__ import annotations

import re

# "did I have open", "I had open", "left open", "kept open": open = on the screen
_OPEN = re.compile(r"\b(?:have|had|has|having|left|kept|keep)\s+(?:it\s+|them\s+)?open\b")
_MY = re.compile(r"\b(?:my|mine)\b", re.IGNORECASE)


def lexical_words(text: str) -> str:
    """``text`` as searched by words, framing words left out."""
    return _OPEN.sub(lambda m: m.group(0)[: m.group(0).rfind("open")], text)


def also_searched(text: str) -> tuple[str, ...]:
    """Words to look for beside the query's own (stop words that mean something here)."""
    return ("your",) if _MY.search(text) else ()
