"""The site as a projection of the database: rebuilt byte for byte, drift found and fixed."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.dates import BEIJING
from pipelines.db import open_database
from pipelines.projection import Drift, EmptyDatabase, reconcile
from pipelines.records import lock_writers
from pipelines.site import FileChanges
from pipelines.store import StorePipeline
from tests import eastmoney
from tests.pipelines.store_helpers import SHARE, make_item

CODES = [f"NW2024030508123456{n:02d}" for n in range(20, 25)]


def fill(store: StorePipeline) -> None:
    """Five posts in two categories: quotes in titles, braces in bodies, dates at 23:30 Beijing time."""
    for n, code in enumerate(CODES):
        outlet = ("科技日报", "证券时报")[n % 2]
        when = datetime(2024, 3, 5 + n, 23, 30, tzinfo=BEIJING)
        store.process_item(make_item(code, title=f'标题{n}"引号"', outlet=outlet, body=f"<p>第{n}篇 {{{{ 大括号 }}}}</p>", date=when))


def snapshot(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def run(database_url: str, site: Path) -> Drift:
    engine = open_database(database_url)
    try:
        return reconcile(engine, eastmoney.site(site), eastmoney.sources(share_link=SHARE), base_url="")
    finally:
        engine.dispose()


def test_a_deleted_site_comes_back_byte_for_byte(store: StorePipeline, site: Path, database_url: str) -> None:
    fill(store)
    written = snapshot(site)
    # the posts, two category pages, and per category one archive page, its month's index and the index of months
    assert len(written) == len(CODES) + 2 + 2 * 3
    shutil.rmtree(site)
    drift = run(database_url, site)
    assert snapshot(site) == written
    assert len(drift.restored) == len(written) and drift.rewritten == drift.removed == []
    assert (drift.posts, drift.pages) == (len(CODES), 2)


def test_drift_is_reported_and_fixed(store: StorePipeline, site: Path, database_url: str) -> None:
    fill(store)
    written = snapshot(site)
    posts = site / "_posts"
    missing, stale, *untouched = sorted(posts.iterdir())
    missing.unlink()
    stale.write_text("edited by hand\n", encoding="utf-8")
    orphan = posts / "2024-01-01-NW202401010000000001.md"
    orphan.write_text("not in the database\n", encoding="utf-8")
    own = [posts / "2024-01-01-my-own-post.md", posts / "2024-01-01-NW123.md", site / "category" / "mine.html"]
    for path in own:
        path.write_text("the site owner's\n", encoding="utf-8")
    (site / "category" / "kejiribao.html").unlink()
    for path in untouched:
        os.utime(path, (1_000_000, 1_000_000))

    drift = run(database_url, site)
    assert drift.restored == [missing, site / "category" / "kejiribao.html"]
    assert drift.rewritten == [stale]
    assert drift.removed == [orphan]
    assert all(p.stat().st_mtime == 1_000_000 for p in untouched)
    assert all(p.read_text(encoding="utf-8") == "the site owner's\n" for p in own)
    assert {k: v for k, v in snapshot(site).items() if "own" not in k and "NW123" not in k and "mine" not in k} == written
    assert run(database_url, site) == Drift(posts=len(CODES), pages=2)  # nothing left to fix


def test_the_old_file_of_a_moved_post_is_an_orphan(store: StorePipeline, site: Path, database_url: str) -> None:
    first = store.process_item(make_item(CODES[0]))
    left_behind = Path(first.post_path or "")
    text = left_behind.read_bytes()
    store.process_item(make_item(CODES[0], date=datetime(2024, 3, 9, 9, 0, tzinfo=BEIJING)))
    left_behind.write_bytes(text)  # as a crash between the new file and the removal would leave it
    assert run(database_url, site).removed == [left_behind]


def test_an_empty_database_never_empties_the_site(database_url: str, site: Path) -> None:
    post = site / "_posts" / f"2024-03-05-{CODES[0]}.md"
    post.parent.mkdir(parents=True)
    post.write_text("a post\n", encoding="utf-8")
    with pytest.raises(EmptyDatabase, match=r"is database\.url right"):
        run(database_url, site)
    assert post.exists()


def test_a_post_of_an_uncommitted_batch_is_not_an_orphan(store: StorePipeline, site: Path, database_url: str) -> None:
    store.process_item(make_item(CODES[0]))
    engine = open_database(database_url)
    result: list[Drift] = []
    try:
        with engine.connect() as conn:
            conn.begin()
            lock_writers(conn)
            files = FileChanges()
            store.writer.write(conn, make_item(CODES[1], body="<p>另一篇</p>"), files)
            assert (site / "_posts" / f"2024-03-05-{CODES[1]}.md").exists()  # on disk, not committed
            thread = threading.Thread(target=lambda: result.append(run(database_url, site)))
            thread.start()
            thread.join(timeout=1)
            assert thread.is_alive()  # the rebuild waits for the writer
            conn.commit()
            thread.join(timeout=60)
    finally:
        engine.dispose()
    assert result[0].removed == []
    assert (site / "_posts" / f"2024-03-05-{CODES[1]}.md").exists()
