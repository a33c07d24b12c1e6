"""Writes the JSON schemas of the messages into docs/events.md, from the models that are their only
declaration (shared/domain/events.py, shared/domain/sms.py).

    python -m tools.event_schemas          # exit 1 if docs/events.md is stale
    python -m tools.event_schemas --write  # regenerate it

Each schema sits between ``<!-- schema:NAME -->`` and ``<!-- /schema:NAME -->`` in the document.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from shared.domain.events import EVENT
from shared.domain.sms import SmsRequest
from shared.domain.sms_dialogue import InboundSms

DOC = Path(__file__).resolve().parent.parent / "docs" / "events.md"


def schemas() -> dict[str, dict[str, Any]]:
    return {
        "visit-event": {"$schema": "https://json-schema.org/draft/2020-12/schema", **EVENT.json_schema()},
        "sms-request": {"$schema": "https://json-schema.org/draft/2020-12/schema", **SmsRequest.model_json_schema()},
        "sms-inbound": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **InboundSms.model_json_schema(by_alias=True),
        },
    }


def render(document: str) -> str:
    """The document with each schema block replaced by the current schema."""
    for name, schema in schemas().items():
        block = f"<!-- schema:{name} -->\n```json\n{json.dumps(schema, indent=2, ensure_ascii=False)}\n```\n"
        pattern = re.compile(rf"<!-- schema:{re.escape(name)} -->\n.*?(?=<!-- /schema:{re.escape(name)} -->)", re.S)
        found = pattern.search(document)
        if found is None:
            raise ValueError(f"docs/events.md has no <!-- schema:{name} --> ... <!-- /schema:{name} --> block")
        document = document[: found.start()] + block + document[found.end() :]
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="regenerate docs/events.md")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if args.write:
        DOC.write_text(wanted, encoding="utf-8")
        return 0
    if wanted != current:
        sys.stderr.write("docs/events.md is stale: run `python -m tools.event_schemas --write`\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
