"""
Brine's Python client: push checkpoints to a Brine registry, pull them verified by SHA-256, and load them the way
their scan report says is safe for the torch installed here.

    import brine
    brine.push(model.state_dict(), "resnet", "epoch-3", metrics={"val_loss": 0.21})
    model.load_state_dict(brine.load("resnet:best"))
"""

from .client import (
    Client,
    card,
    checkpoints,
    diff,
    load,
    modeled_version,
    parse_ref,
    pull,
    push,
    report,
    search,
    set_best_rule,
    set_card,
    version,
    versions,
)
from .errors import (
    AuthError,
    BadRequest,
    BrineError,
    ChecksumMismatch,
    Conflict,
    NotFound,
    NotSafe,
    TooLarge,
    Unavailable,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "push",
    "pull",
    "load",
    "set_best_rule",
    "version",
    "versions",
    "checkpoints",
    "search",
    "diff",
    "card",
    "set_card",
    "report",
    "modeled_version",
    "parse_ref",
    "BrineError",
    "BadRequest",
    "AuthError",
    "NotFound",
    "Conflict",
    "TooLarge",
    "Unavailable",
    "NotSafe",
    "ChecksumMismatch",
]
