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
