"""In-memory registry of who works where (``shared.services.identity.StaffRegistry``)."""

from __future__ import annotations

from shared.domain.identity import StaffGrants
from shared.services.identity import RegistryUnavailable


class FakeStaffRegistry:
    def __init__(self) -> None:
        self.grants: dict[str, StaffGrants] = {}
        self.down = False
        self.reads = 0

    def grants_of(self, staff_id: str) -> StaffGrants:
        self.reads += 1
        if self.down:
            raise RegistryUnavailable("down")
        return self.grants.get(staff_id, StaffGrants())
