"""Entry points of every Cloud Function.

Cloud Functions deploys from the repo root with ``--entry-point NAME``, so ``shared/`` ships with
every function; each function still deploys on its own.
"""

from functions.admin import admin
from functions.agent import agent
from functions.certificates import certificates
from functions.health import health
from functions.interest import interest
from functions.issue_certificates import issue_certificates
from functions.issue_referrals import issue_referrals
from functions.login import login
from functions.mark_no_shows import mark_no_shows
from functions.notify import notify
from functions.point import point
from functions.programme_tick import programme_tick
from functions.reconcile_availability import reconcile_availability
from functions.relay_outbox import relay_outbox
from functions.reports import reports
from functions.send_immunizations import send_immunizations
from functions.send_reminders import send_reminders
from functions.send_sms import send_sms
from functions.slots import slots
from functions.sms_dialogue import sms_dialogue
from functions.sms_reports import sms_reports
from functions.stream_events import stream_events
from functions.update_availability import update_availability
from functions.visits import visits

__all__ = [
    "admin", "agent", "certificates", "health", "interest", "issue_certificates", "issue_referrals", "login",
    "mark_no_shows", "notify", "point", "programme_tick", "reconcile_availability", "relay_outbox", "reports",
    "send_immunizations", "send_reminders", "send_sms", "slots", "sms_dialogue", "sms_reports", "stream_events",
    "update_availability", "visits",
]  # fmt: skip
