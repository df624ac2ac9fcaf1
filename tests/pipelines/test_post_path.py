"""The post's file name carries the Beijing date, whatever offset the time arrives in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.dates import BEIJING
from pipelines.post import Post, render_post

CODE = "NW202403061234567890"


def post_at(published: datetime) -> Post:
    return Post(
        code=CODE, title="标题", published=published, slug="s", tag="t新闻", body="<p>正文</p>",
        share_link="http://s/x", base_url="",
    )


@pytest.mark.parametrize(
    ("published", "day", "clock"),
    [
        (datetime(2024, 3, 5, 23, 30, tzinfo=BEIJING), "2024-03-05", "23:30:00"),
        (datetime(2024, 3, 5, 15, 30, tzinfo=UTC), "2024-03-05", "23:30:00"),  # same day in UTC
        (datetime(2024, 3, 6, 0, 30, tzinfo=BEIJING), "2024-03-06", "00:30:00"),
        (datetime(2024, 3, 5, 16, 30, tzinfo=UTC), "2024-03-06", "00:30:00"),  # the day before in UTC
        (datetime(2024, 3, 5, 11, 30, tzinfo=timezone(timedelta(hours=-5))), "2024-03-06", "00:30:00"),
        (datetime(2024, 3, 6, 7, 59, 59, tzinfo=BEIJING).astimezone(UTC), "2024-03-06", "07:59:59"),
    ],
    ids=["beijing-2330", "utc-1530", "beijing-0030", "utc-1630-day-before", "new-york", "utc-2359-day-before"],
)
def test_the_file_is_named_by_the_beijing_day(published: datetime, day: str, clock: str) -> None:
    post = post_at(published)
    assert post.path == f"_posts/{day}-{CODE}.md"
    assert f"\ndate: {day} {clock} +0800\n" in render_post(post)  # the file name and the front matter agree
