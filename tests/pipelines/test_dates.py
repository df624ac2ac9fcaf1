from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.dates import BEIJING, parse_published

FETCHED = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-02-09 20:13:37", bj(2022, 2, 9, 20, 13, 37)),
        ("2022-02-09 20:13", bj(2022, 2, 9, 20, 13)),
        ("2022年02月09日 20:13", bj(2022, 2, 9, 20, 13)),
        ("2019 年 10 月 30 日 08:00", bj(2019, 10, 30, 8, 0)),
        ("发布时间：2024-03-05 08:00", bj(2024, 3, 5, 8, 0)),
        ("3分钟前", bj(2026, 11, 20, 11, 57)),
        ("3小时前", bj(2026, 11, 20, 9, 0)),
        ("昨天 10:20", bj(2026, 11, 19, 10, 20)),
    ],
)
def test_parses(raw: str, expected: datetime) -> None:
    value = parse_published(raw, fetched_at=FETCHED)
    assert value == expected
    assert value is not None and value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("raw", [None, "", "a", "//", "abc def", "2099-01-01 00:00:00", "0001-01-01 00:00:00", "2022-13-45 10:00:00"])
def test_garbage_and_implausible_dates_are_none(raw: str | None) -> None:
    assert parse_published(raw, fetched_at=FETCHED) is None


def test_relative_dates_are_reproducible() -> None:
    first = parse_published("5分钟前", fetched_at=FETCHED)
    assert first == parse_published("5分钟前", fetched_at=FETCHED)
