"""How autolut speaks to its users: through Brian2's logger, and with one error type."""

from __future__ import annotations

from brian2.utils.logger import get_logger

__all__ = ["AutolutError", "logger"]

logger = get_logger("autolut")


class AutolutError(RuntimeError):
    """A model that autolut cannot handle as asked; the message says what to do."""
