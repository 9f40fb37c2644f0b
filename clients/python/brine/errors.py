"""What can go wrong, as exceptions that carry the registry's own message."""

from typing import Optional


class BrineError(Exception):
    """Anything the registry refused or could not do; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, body: Optional[dict] = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body or {}


class BadRequest(BrineError):
    """The request was wrong (400): a bad name, metric or header. Nothing was stored."""


class AuthError(BrineError):
    """The token is missing, unknown, revoked, or lacks the scope (401/403)."""


class NotFound(BrineError):
    """No such checkpoint, version or tag (404)."""


class Conflict(BrineError):
    """The version exists with other bytes: versions are immutable (409)."""


class TooLarge(BrineError):
    """The file is larger than the registry accepts (413)."""


class Unavailable(BrineError):
    """The registry, or a dependency of it, is not answering (503, or no answer at all); try again later."""


class NotSafe(BrineError):
    """
    The file is not known to be safe for what was asked: its verdict is not `safe`, or the installed torch would
    refuse it with weights_only=True. `reason` quotes the scan report, `fix` says what would help (when anything does).
    """

    def __init__(self, message: str, status: int = 0, body: Optional[dict] = None, reason: str = "", fix: str = ""):
        super().__init__(message, status, body)
        self.reason = reason
        self.fix = fix


class ChecksumMismatch(BrineError):
    """The bytes received do not have the SHA-256 the registry recorded; nothing was kept."""
