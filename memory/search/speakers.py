"""Questions about a person in a chat: that person's own turns first.

"What did Caroline research?" is answered by something Caroline said, yet the word "Caroline" is
mostly in the other speaker's turns ("Hey Caroline!") and in the neighbouring-turn context of those
turns (stored as "Caroline: ..."), so plain word matching favours the wrong side of the
conversation. When a query names a chat speaker, that speaker's turns are ranked up and the name
is left out of the word match (it still shapes the query's vector).
"""

from __future__ import annotations

import threading

from memory.search import fts
from memory.store import MemoryStore


class ChatSpeakers:
    """The speaker names of a home's chat turns, read incrementally (new rows only)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._last_id = 0
        self._names: set[str] = set()

    def names(self) -> frozenset[str]:
        """Every speaker name seen so far (a forgotten speaker may linger: harmless)."""
        conn = self._store.read()
        with self._lock:
            top = conn.execute("SELECT max(id) FROM observations").fetchone()[0] or 0
            if top > self._last_id:
                rows = conn.execute(
                    "SELECT DISTINCT speaker FROM observations "
                    "WHERE id > ? AND kind = 'chat' AND speaker IS NOT NULL",
                    (self._last_id,),
                )
                self._names.update(r[0] for r in rows if r[0])
                self._last_id = top
            return frozenset(self._names)

    def named_in(self, text: str) -> NamedSpeakers:
        """The speakers a query names, by full name or by a first name only one of them has."""
        return named_speakers(text, self.names())


class NamedSpeakers:
    """Speakers named in a query, and the query's words without their names."""

    __slots__ = ("names", "words")

    def __init__(self, names: frozenset[str], words: str) -> None:
        self.names = names
        self.words = words

    def __bool__(self) -> bool:
        return bool(self.names)


def named_speakers(text: str, speakers: frozenset[str]) -> NamedSpeakers:
    """Which of ``speakers`` ``text`` names, and ``text``'s tokens without those names.

    A speaker is named by every word of the name ("Dario Hartmann"), or by its first word when no
    other speaker shares it ("Dario", "Dario's"). Names that are stop words ("me") never count.
    When the names are all the query says, the words keep them (nothing else to match).
    """
    toks = fts.tokens(text)
    have = set(toks)
    firsts: dict[str, list[str]] = {}
    parts: dict[str, list[str]] = {}
    for name in speakers:
        words = fts.tokens(name)
        if words and not any(w in fts.STOPWORDS for w in words):
            parts[name] = words
            firsts.setdefault(words[0], []).append(name)
    found: set[str] = set()
    used: set[str] = set()
    for name, words in parts.items():
        if len(words) > 1 and all(w in have for w in words):
            found.add(name)
            used.update(words)
        elif words[0] in have and len(firsts[words[0]]) == 1:
            found.add(name)
            used.add(words[0])
    rest = [t for t in toks if t not in used]
    if not found or not any(t not in fts.STOPWORDS for t in rest):
        return NamedSpeakers(frozenset(found), text)
    return NamedSpeakers(frozenset(found), " ".join(rest))
