"""The error types services raise. Bad input is Django's ValidationError (400); a move the current
state does not allow is Conflict (409). One DRF exception handler maps both (core.api.exceptions)."""


class Conflict(Exception):
    """An illegal transition, a slot already taken, a stale update: answered with HTTP 409.

    `code` is stable and listed in docs/api.md; `message` is shown to the user, in Chinese.
    """

    default_code = "conflict"

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


# The database could not take the write in time (SQLite's write lock held past its busy timeout,
# a PostgreSQL lock timeout or deadlock): nothing was written, and trying again a moment later
# succeeds. The API answers 503 `busy`, a page a Chinese message (core.middleware); never a 500.
BUSY_MESSAGES = ("database is locked", "database table is locked", "deadlock detected", "lock timeout")
BUSY_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def is_busy(exc):
    """Whether `exc` is the database being too busy to take the write now."""
    from django.db import OperationalError

    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "pgcode", None) in BUSY_SQLSTATES:
        return True
    return any(text in str(exc).lower() for text in BUSY_MESSAGES)
