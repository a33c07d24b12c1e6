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
        ("header bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ("sms to 601234567 sent", "601234567"),
        ("phone=501234567,", "501234567"),
        (f"token {'a1' * 32}.{'x' * 43} refused", "x" * 43),
        (f"Authorization: {'0f' * 32}.{'Ab-_' * 10}xyz", "Ab-_Ab-_"),
        ("assertion eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI4NTAxMDExMjM0NSJ9.c2ln", "eyJzdWIiOiI4NTAxMDExMjM0NSJ9"),
    ],
)
def test_personal_data_is_masked(text: str, hidden: str) -> None:
    assert hidden not in scrub(text)


@pytest.mark.parametrize("text", ["took 1234567890 us", "id 12345678", "count 123456789012", "code 312345678"])
def test_other_numbers_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_nested_field_values_are_scrubbed() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "refused", (), None)
    token = f"{'ab' * 32}.{'Z' * 43}"
    record.fields = {
        "request": {"body": {"pesel": "85010112345", "phones": ["601234567", "+48 601 234 568"]}},
        "headers": [("Authorization", token)],
        "85010112345": 1,
        "depth": 3,
    }
    line = CloudLoggingFormatter().format(record)
    for secret in ("85010112345", "601234567", "601 234 568", token):
        assert secret not in line
    assert json.loads(line)["depth"] == 3


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
