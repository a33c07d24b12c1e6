from __future__ import annotations

import json
import logging

import pytest

from shared.logs import CloudLoggingFormatter, scrub, set_trace


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("login of 85010112345 ok", "85010112345"),
        ("sms to +48 601 234 567", "601 234 567"),
        ("sms to 601-234-567", "601-234-567"),
        ("header Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
    ],
)
def test_personal_data_is_masked(text: str, hidden: str) -> None:
    assert hidden not in scrub(text)


def test_entries_are_cloud_logging_json_with_trace() -> None:
    set_trace("demo-ereg", "4bf92f3577b34da6a3ce929d0e0e4736/1;o=1")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "slot %s full", ("A",), None)
    record.fields = {"point_id": "p-1", "note": "PESEL 85010112345"}
    entry = json.loads(CloudLoggingFormatter().format(record))
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "slot A full"
    assert entry["logging.googleapis.com/trace"] == "projects/demo-ereg/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    assert entry["point_id"] == "p-1"
    assert "85010112345" not in entry["note"]
    set_trace("demo-ereg", None)
