"""What every message consumer shares. No I/O."""

from __future__ import annotations


class PoisonMessage(ValueError):
    """A message no retry can process; it must end in the dead-letter topic."""
