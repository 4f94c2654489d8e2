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


class StoreDamaged(StoreError):
    """A file of the home is damaged or was truncated; nothing was changed (the message says how
    to restore or repair)."""


class DiskFull(StoreError):
    """The disk is full or read-only; the transaction was rolled back."""


class ImportFailed(StoreError):
    """An import file has a bad line; nothing was imported.

    Attributes:
        line: 1-based line number of the first bad line.
        reason: what is wrong with it.
    """

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}, line {line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class BadQuery(StoreError):
    """A query or filter is malformed (bad time, unknown type)."""


class NotFound(StoreError):
    """No item with that id."""
