"""Programme administration: read any version, replace the whole programme with a newer version.

Every version is kept; a replacement names the version it was based on (HTTP ``If-Match``) and is
refused when another admin got there first. Each change is audited with who, when and the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.domain.programme import Programme, ProgrammeContent, programme_diff, programme_problems
from shared.domain.refusals import RefusalKind, Refused


@dataclass(frozen=True)
class ProgrammeChange:
    version: int
    based_on: int
    changed_by: str  # the staff member's pseudonymous id
    changed_at: datetime
    diff: list[dict[str, Any]]


class ProgrammeVersions(Protocol):
    def current(self) -> Programme | None: ...

    def version(self, number: int) -> Programme | None: ...

    def save(self, programme: Programme, change: ProgrammeChange) -> bool:
        """Store ``programme`` as the new current version and audit ``change``, atomically, if the
        current version is still ``change.based_on`` (0: none yet); False if it moved on."""
        ...


def stale(current: int) -> Refused:
    return Refused(
        RefusalKind.STALE,
        "stale_version",
        f"Program zmienił się w międzyczasie (aktualna wersja: {current}); pobierz go ponownie",
        field="If-Match",
    )


class ProgrammeAdmin:
    def __init__(self, versions: ProgrammeVersions, on_change: Callable[[], None] = lambda: None) -> None:
        self.versions = versions
        self.on_change = on_change  # e.g. drop this process's cached programme

    def current(self) -> Programme:
        programme = self.versions.current()
        if programme is None:
            raise Refused(RefusalKind.NOT_FOUND, "no_programme", "Program szczepień nie został jeszcze zdefiniowany")
        return programme

    def version(self, number: int) -> Programme:
        programme = self.versions.version(number)
        if programme is None:
            raise Refused(RefusalKind.NOT_FOUND, "unknown_version", f"Nie ma wersji {number} programu", field="version")
        return programme

    def replace(self, content: ProgrammeContent, based_on: int, actor: str, now: datetime) -> Programme:
        """Validate and store ``content`` as the version after ``based_on``."""
        problems = programme_problems(content)
        if problems:
            first = problems[0]
            raise Refused(RefusalKind.INVALID, first.code, first.detail, field=first.field)
        current = self.versions.current()
        current_version = current.version if current else 0
        if based_on != current_version:
            raise stale(current_version)
        programme = Programme(version=current_version + 1, **content.model_dump())
        change = ProgrammeChange(programme.version, current_version, actor, now, programme_diff(current, programme))
        if not self.versions.save(programme, change):
            latest = self.versions.current()
            raise stale(latest.version if latest else 0)
        self.on_change()
        return programme
