"""Entry points of every Cloud Function.

Cloud Functions deploys from the repo root with ``--entry-point NAME``, so ``shared/`` ships with
every function; each function still deploys on its own.
"""

from functions.agent import agent
from functions.health import health
from functions.login import login
from functions.point import point
from functions.slots import slots
from functions.visits import visits

__all__ = ["agent", "health", "login", "point", "slots", "visits"]
