"""Firestore's single-field index settings as ``infra/firestore.yaml`` declares them once.

Terraform (``infra/firestore.tf``) applies them in the cloud. The Firestore emulator cannot: it
implements no FirestoreAdmin method (GetField, UpdateField, ListIndexes answer 501), indexes nothing
and runs any query. So locally the stores that write these collections check their own documents
against the same declaration: a timestamp written to a collection whose declaration does not exempt
it (a field that always increases caps the collection at about 500 writes a second once indexed) is
refused at once, in the tests, instead of becoming a hot spot at the peak.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

DECLARATION = Path(__file__).resolve().parent.parent.parent / "infra" / "firestore.yaml"


class UndeclaredIndexedTimestamp(Exception):
    """A document would write a timestamp its collection's declaration leaves indexed."""


@dataclass(frozen=True)
class CollectionIndexes:
    collection: str
    unindexed: frozenset[str]
    ttl_field: str | None = None

    def check(self, document: Mapping[str, Any]) -> None:
        """Refuse a document holding a timestamp that the declaration does not exempt from indexing."""
        indexed = {name for name, value in document.items() if isinstance(value, datetime)} - self.unindexed
        if indexed:
            raise UndeclaredIndexedTimestamp(
                f"{self.collection}: {sorted(indexed)} would be indexed; declare them in infra/firestore.yaml"
            )


@functools.cache
def declared(collection: str, path: Path = DECLARATION) -> CollectionIndexes:
    settings = (yaml.safe_load(path.read_text()).get("collections") or {}).get(collection) or {}
    return CollectionIndexes(collection, frozenset(settings.get("unindexed") or ()), settings.get("ttl_field"))
