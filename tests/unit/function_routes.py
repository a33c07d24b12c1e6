"""The routes every HTTP function serves, read from each function's composition on stand-in services."""

from __future__ import annotations

from unittest.mock import Mock

from werkzeug.routing import Rule

import main
from emulators.host import HTTP_MOUNTS
from shared.entrypoints.auth import Gate, Throttle


def function_rules() -> list[tuple[str, Rule]]:
    """(function, rule) of every route of every HTTP function the host mounts."""
    container = Mock()  # every service a stand-in: only the route tables are read
    container.gate = Gate(Mock(), Throttle(Mock(), {}, 0))
    found = []
    for mount in HTTP_MOUNTS:
        module = __import__(getattr(main, mount.function).__module__, fromlist=["compose"])
        found += [(mount.function, rule) for rule in module.compose(container).rules()]
    return found
