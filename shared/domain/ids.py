"""Identifier formats the edge checks before any lookup. No I/O."""

from __future__ import annotations

# A UUID in its canonical lower-case form (points, visits, series and events are keyed by UUIDv4).
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
