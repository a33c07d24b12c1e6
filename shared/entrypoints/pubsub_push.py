"""What every Pub/Sub-triggered function shares: reading the message out of the CloudEvent.

A message that cannot be read raises PoisonMessage; the function then fails, Pub/Sub retries it a few
times and moves it to the dead-letter topic, while the other messages flow on.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cloudevents.http import CloudEvent

from shared.domain.messages import PoisonMessage


def message_json(event: CloudEvent) -> Any:
    data: Any = event.get_data()
    try:
        raw = base64.b64decode(data["message"]["data"], validate=True) if data["message"].get("data") else b""
        return json.loads(raw) if raw else {}
    except (KeyError, TypeError, binascii.Error, ValueError, UnicodeDecodeError):
        raise PoisonMessage("the message is not JSON") from None
