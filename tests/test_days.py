"""Where a site's day starts, without a database."""

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from exporter.days import day_start, zone


@pytest.mark.parametrize(
    ("name", "now", "expected"),
    [
        ("UTC", "2026-11-24 00:00:00", "2026-11-24 00:00:00"),  # midnight itself is today
        ("UTC", "2026-11-23 23:59:59", "2026-11-23 00:00:00"),
        ("Asia/Kolkata", "2026-11-24 03:00:00", "2026-11-23 18:30:00"),  # half-hour offset
        ("Pacific/Kiritimati", "2026-11-24 03:00:00", "2026-11-23 10:00:00"),  # UTC+14
        ("Pacific/Pago_Pago", "2026-11-24 03:00:00", "2026-11-23 11:00:00"),  # UTC-11
        ("Europe/Paris", "2026-03-29 00:59:59", "2026-03-28 23:00:00"),  # last CET second
        ("Europe/Paris", "2026-03-29 01:00:00", "2026-03-28 23:00:00"),  # first CEST second
        ("Europe/Paris", "2026-03-29 22:00:00", "2026-03-29 22:00:00"),  # next day, CEST
        ("America/Santiago", "2026-09-06 04:00:00", "2026-09-06 04:00:00"),  # skipped midnight
        ("America/Santiago", "2026-09-06 03:59:59", "2026-09-05 04:00:00"),
    ],
)
def test_day_start(name: str, now: str, expected: str) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert day_start(moment, ZoneInfo(name)) == datetime.fromisoformat(expected)


def test_unknown_zone_falls_back_to_utc_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    zone.cache_clear()
    with caplog.at_level(logging.WARNING):
        assert zone("Mars/Olympus_Mons") == ZoneInfo("UTC")
        assert zone("Mars/Olympus_Mons") == ZoneInfo("UTC")
    assert [r.getMessage() for r in caplog.records] == [
        "unknown time zone 'Mars/Olympus_Mons' of a site; using UTC for it"
    ]
