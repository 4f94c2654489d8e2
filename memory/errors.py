"""Errors raised by the memory core."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the memory core raises."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer Engram than this one."""

    def __init__(self, db_version: int, code_version: int) -> None:
        super().__init__(
            f"this database has schema version {db_version}, but this Engram only knows up to "
            f"{code_version}; upgrade Engram to open it (nothing was changed)"
        )
        self.db_version = db_version
        self.code_version = code_version


class StoreLocked(StoreError):
    """Another process held the database too long."""


class EngramLocked(StoreError):
    """The home is encrypted and its key is not in this process (locked, no passphrase, wrong
    passphrase); the message starts "Engram is locked:" and says how to unlock."""


class StoreDamaged(StoreError):
    """A file of the home is damaged or was truncated; nothing was changed (the message says how
    to restore or repair)."""


class DiskFull(StoreError):
    """The disk is full or read-only; the transaction was rolled back."""


class ImportFailed(StoreError):
    """An import file is unreadable or has bad lines; nothing was imported.

    Attributes:
        line: 1-based line number of the first bad line (None: the file itself is the problem).
        reason: what is wrong with it.
        bad: every bad line as (line, reason), in file order.
    """

    SHOWN = 20  # bad lines spelled out in the message; the rest are counted

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if line is None else f"{path}, line {line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason
        self.bad: tuple[tuple[int, str], ...] = () if line is None else ((line, reason),)

    @classmethod
    def lines(cls, path: str, bad: list[tuple[int, str]], what: str = "line") -> ImportFailed:
        """Every bad line of a file in one error (the first one's number in ``line``)."""
        if len(bad) == 1:
            number, reason = bad[0]
            return cls(
                path,
                number,
                f"{reason}; nothing was imported "
                f"(fix the {what}, or pass --skip-bad to import the rest)",
            )
        listed = [f"  {what} {n}: {r}" for n, r in bad[: cls.SHOWN]]
        if len(bad) > cls.SHOWN:
            listed.append(f"  ... and {len(bad) - cls.SHOWN} more")
        exc = cls(
            path,
            None,
            f"{len(bad)} bad {what}s; nothing was imported (fix them, or pass --skip-bad to "
            "import the rest):\n" + "\n".join(listed),
        )
        exc.line, exc.bad = bad[0][0], tuple(bad)
        return exc


class BadQuery(StoreError):
    """A query or filter is malformed (bad time, unknown type)."""


class NotFound(StoreError):
    """No item with that id."""
