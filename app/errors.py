"""Turning core errors into one clear line for the user, in one place (Anki's show_exception)."""

from __future__ import annotations

from capture.errors import CaptureError, CaptureUnavailable
from memory.errors import (
    BadQuery,
    DiskFull,
    EngramLocked,
    ImportFailed,
    NotFound,
    SchemaTooNewError,
    StoreDamaged,
    StoreError,
    StoreLocked,
)
from memory.store.db import DATABASE_ERRORS
from models.errors import BadInput, ModelError, ModelUnavailable

EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_ENV = 4


def user_message(exc: BaseException) -> tuple[str, int]:
    """A message and an exit code for an exception the user can act on."""
    from app.api.policy import Refused

    if isinstance(exc, ImportFailed | BadQuery | BadInput):
        return str(exc), EXIT_USAGE
    if isinstance(exc, NotFound):
        return str(exc), EXIT_DATA
    env = SchemaTooNewError | DiskFull | StoreLocked | StoreDamaged | EngramLocked | Refused
    if isinstance(exc, env | ModelUnavailable | CaptureUnavailable):
        return str(exc), EXIT_ENV
    if isinstance(exc, StoreError | ModelError | CaptureError):
        return str(exc), EXIT_DATA
    if isinstance(exc, DATABASE_ERRORS):
        return (
            f"the database is damaged ({exc}); nothing more was written. Run `engram doctor` to "
            "see what is wrong and `engram repair` to fix what can be fixed without losing rows",
            EXIT_ENV,
        )
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}", EXIT_ENV
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename or exc}", EXIT_USAGE
    if isinstance(exc, OSError) and exc.errno == 28:
        return "the disk is full; nothing more was written", EXIT_ENV
    raise exc
