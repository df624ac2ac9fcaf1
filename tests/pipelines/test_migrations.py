"""Alembic migrations: a new database, and a database of the first release upgraded in place."""

from __future__ import annotations

import ast
import importlib.util
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from pipelines.db import HEAD, MIGRATIONS, make_engine, migrate, open_database
from pipelines.dedupe import day_of
from pipelines.fingerprint import band_keys, signature, text_hash
from pipelines.models import article_bands, article_history, articles, metadata, near_duplicates, quarantine
from pipelines.post import Post, render_category_page, render_post
from pipelines.projection import reconcile
from pipelines.writer import content_hash
from tests import eastmoney
from tests.pipelines.store_helpers import SHARE, make_item, open_store, rows

FIRST_RELEASE_ARTICLES = {
    # code: (title, Beijing time, outlet, slug, body)
    "NW202403050812345601": ("沪指午间收涨0.5%", "2024-03-05 11:30:00", "证券时报", "zhengquanshibao",
                             ("<p>A股三大指数早盘集体收涨，截至午间收盘，沪指涨0.52%报3045.12点，深成指涨0.81%，创业板指涨1.02%。</p>\n"
                              "<p>盘面上，半导体、消费电子板块走强，银行、煤炭板块调整。沪深两市半日成交额5480亿元。</p>\n"
                              "<p>分析人士认为，市场情绪逐步回暖，短期有望延续震荡上行走势，建议关注业绩确定性较强的科技成长板块。</p>")),
    "NW202403050812345602": ("央行开展1000亿元逆回购操作", "2024-03-05 23:30:00", "财联社", "cailianshe",
                             "<p>中国人民银行今日开展了1000亿元7天期逆回购操作，中标利率为1.80%。</p>"),
    "NW202403060812345603": ("宁德时代一季度净利润增长7%", "2024-03-06 00:05:41", "证券时报", "zhengquanshibao",
                             "<p>宁德时代披露一季报，归属于上市公司股东的净利润105.10亿元，同比增长7.00%。</p>"),
}
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores a value
VERSIONS = Path(__file__).resolve().parents[2] / "pipelines/migrations/versions"
DEDUPE_MIGRATION = VERSIONS / "0003_dedupe_history.py"


def first_release_post(code: str) -> Post:
    title, when, outlet, slug, body = FIRST_RELEASE_ARTICLES[code]
    item = make_item(code, title=title, outlet=outlet, body=body, date=datetime.fromisoformat(when + "+08:00"))
    assert isinstance(item.post, Post) and item.post.slug == slug
    return item.post


def populate_first_release(engine: Engine, site: Path) -> None:
    """Rows and files as release 0.1 (schema 0001) wrote them, with plain SQL."""
    def stamp(value: datetime) -> Any:
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime(SQLITE_TIME) if engine.dialect.name == "sqlite" else naive

    now = stamp(datetime(2024, 3, 6, 1, 0, tzinfo=UTC))
    with engine.begin() as conn:
        for code in FIRST_RELEASE_ARTICLES:
            post = first_release_post(code)
            conn.execute(
                text(
                    "INSERT INTO articles (source, code, title, published_at, utc_offset, outlet, category, tag, body,"
                    " content_hash, post_path, list_meta, fetched_at, created_at, updated_at) VALUES (:source, :code,"
                    " :title, :published_at, 480, :outlet, :category, :tag, :body, :hash, :path, NULL, :now, :now, :now)"
                ),
                {"source": "eastmoney", "code": code, "title": post.title, "published_at": stamp(post.published),
                 "outlet": FIRST_RELEASE_ARTICLES[code][2], "category": post.slug, "tag": post.tag, "body": post.body,
                 "hash": content_hash(post), "path": post.path, "now": now},
            )
            (site / post.path).parent.mkdir(parents=True, exist_ok=True)
            (site / post.path).write_text(render_post(post), encoding="utf-8")
        for slug, title in (("zhengquanshibao", "证券时报"), ("cailianshe", "财联社")):
            conn.execute(text("INSERT INTO categories (slug, title, outlet, created_at) VALUES (:s, :t, :t, :now)"),
                         {"s": slug, "t": title, "now": now})
            (site / "category").mkdir(parents=True, exist_ok=True)
            (site / "category" / f"{slug}.html").write_text(render_category_page(slug, title), encoding="utf-8")
        conn.execute(
            text("INSERT INTO quarantine (source, code, reason, payload, created_at, updated_at)"
                 " VALUES ('eastmoney', 'NW202403050812345699', 'empty body', '{}', :now, :now)"),
            {"now": now},
        )


def test_a_new_database_is_created_by_migrating_and_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], diff
        newest = sorted(VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))[-1].name[:4]
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == newest
    engine.dispose()


def test_a_first_release_database_upgrades_in_place(database_url: str, site: Path) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0001")
    populate_first_release(engine, site)
    with engine.connect() as conn:  # the 0001 schema, read without the current models
        before = [dict(r) for r in conn.execute(text("SELECT * FROM articles ORDER BY id")).mappings()]
    migrate(engine)
    engine.dispose()

    after = rows(database_url, articles)
    for old, new in zip(before, after, strict=True):
        assert {k: new[k] for k in old if not k.endswith("_at")} == {k: v for k, v in old.items() if not k.endswith("_at")}
        assert new["published_at"] == first_release_post(new["code"]).published  # same instant, now read as aware UTC
        assert new["fetched_at"] == new["created_at"] == new["updated_at"] == datetime(2024, 3, 6, 1, 0, tzinfo=UTC)
        assert new["text_hash"] == text_hash(new["title"], new["body"])
        assert new["signature"] == signature(new["title"], new["body"])
    indexed = {(r["band_key"], r["article_id"]) for r in rows(database_url, article_bands)}
    expected = {(key, r["id"]) for r in after for key in band_keys(r["signature"], day_of(r["published_at"]))}
    assert indexed == expected and len(indexed) == 32 * len(after)
    assert len(rows(database_url, metadata.tables["categories"])) == 2
    assert [q["code"] for q in rows(database_url, quarantine)] == ["NW202403050812345699"]

    # The posts projected from the upgraded rows are exactly what the first release wrote.
    posts = {p: p.read_bytes() for p in (site / "_posts").iterdir()}
    for path in posts:
        os.utime(path, (1_000_000, 1_000_000))
    projection = make_engine(database_url)
    drift = reconcile(projection, eastmoney.site(site), eastmoney.sources(share_link=SHARE), base_url="")
    projection.dispose()
    # only the archive pages, which the first release did not write, are new
    assert (drift.rewritten, drift.removed) == ([], [])
    assert drift.restored and {Path(p).relative_to(site).parts[0] for p in drift.restored} == {"archive"}
    assert all(p.stat().st_mtime == 1_000_000 for p in posts)

    # The new features work on the old rows.
    a, b, c = FIRST_RELEASE_ARTICLES
    store = open_store(database_url, site)
    try:
        title, when, outlet, _, body = FIRST_RELEASE_ARTICLES[a]
        same = store.process_item(make_item(a, title=title, outlet=outlet, body=body, date=datetime.fromisoformat(when + "+08:00")))
        assert same.outcome == "unchanged"
        title, when, outlet, _, body = FIRST_RELEASE_ARTICLES[b]
        dup = store.process_item(make_item("NW202403050812345677", title=title, outlet=outlet, body=body))
        assert dup.outcome == "duplicate" and dup.post_path == str(site / first_release_post(b).path)
        title, _, outlet, _, body = FIRST_RELEASE_ARTICLES[c]
        moved = store.process_item(
            make_item(c, title=title + "（更新）", outlet=outlet, body=body, date=datetime(2024, 3, 7, 9, 0, tzinfo=UTC)),
        )
        assert moved.outcome == "updated"
        title, when, outlet, _, body = FIRST_RELEASE_ARTICLES[a]
        near_body = body.replace("建议关注业绩确定性较强的科技成长板块。", "北向资金半日净买入32亿元。")
        near = store.process_item(
            make_item("NW202403050812345678", title=title, outlet=outlet, body=near_body, date=datetime.fromisoformat(when + "+08:00")),
        )
        assert near.outcome == "new"
    finally:
        store.close_spider()
    assert [h["title"] for h in rows(database_url, article_history)] == [FIRST_RELEASE_ARTICLES[c][0]]
    assert not (site / first_release_post(c).path).exists()
    (record,) = rows(database_url, near_duplicates)
    assert record["similar_id"] == next(r["id"] for r in after if r["code"] == a)


def test_downgrade_and_upgrade_keep_the_articles(database_url: str, site: Path) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0001")
    populate_first_release(engine, site)
    migrate(engine)
    before = [{k: v for k, v in r.items() if k not in ("text_hash", "signature")} for r in rows(database_url, articles)]
    from alembic import command

    from pipelines.db import alembic_config

    command.downgrade(alembic_config(engine), "0002")
    assert "text_hash" not in {c["name"] for c in inspect(engine).get_columns("articles")}
    migrate(engine)
    engine.dispose()
    after = [{k: v for k, v in r.items() if k not in ("text_hash", "signature")} for r in rows(database_url, articles)]
    assert after == before
    assert all(r["text_hash"] for r in rows(database_url, articles))


def load_migration(path: Path) -> Any:
    """The migration module at *path*, imported from its file (its name starts with a digit)."""
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dedupe_migration_imports_no_application_code() -> None:
    imported = []
    for node in ast.walk(ast.parse(DEDUPE_MIGRATION.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append("." * node.level + (node.module or ""))
    assert "sqlalchemy" in imported and "alembic" in imported  # the walk does see the imports
    assert [m for m in imported if m.startswith(".") or m.split(".")[0] in ("pipelines", "crawler")] == []


def test_the_dedupe_migrations_frozen_fingerprint_equals_the_live_one() -> None:
    """The frozen copy equals the live code for now; when the live algorithm changes on
    purpose, this test is updated together with a new migration."""
    migration = load_migration(DEDUPE_MIGRATION)
    long_body = "".join(f"<p>第{i}段：沪指涨{i / 100:.2f}%，两市成交额{5000 + 37 * i}亿元，北向资金净买入{i % 50}亿元。</p>\n"
                        for i in range(300))
    cases = [
        *((title, body) for title, _, _, _, body in FIRST_RELEASE_ARTICLES.values()),  # Chinese text
        ("央行开展1000亿元逆回购操作", ""),  # a title only, empty body
        ("", ""),  # no text at all
        ("标题", "<p><strong>央行今日开展１０００亿元逆回购操作</strong>！</p>\n<p><img src='a.png'><br/>&amp;&nbsp;&#x4e2d;</p>"),
        ("Fed Holds Rates", "<p>The FED held rates at 5.25%–5.50%.</p><p>（文章来源：财联社）</p><p>(文章来源: Reuters)</p>"),
        ("沪深两市半日成交额5480亿元", long_body),  # long text: every bin full
        ("", "<p><img src='chart.png'></p>"),  # an image-only article
        ("短", "<p>ab</p>"),  # shorter than one shingle
    ]
    for title, body in cases:
        assert migration._text_hash_v1(title, body) == text_hash(title, body), (title, body[:40])
        assert migration._signature_v1(title, body) == signature(title, body), (title, body[:40])
    assert {bool(signature(t, b)) for t, b in cases} == {True, False}  # both branches of the signature compared


def test_the_band_migrations_frozen_keys_equal_the_live_ones() -> None:
    migration = load_migration(VERSIONS / "0005_article_bands.py")
    for title, _, _, _, body in FIRST_RELEASE_ARTICLES.values():
        sig = signature(title, body)
        assert migration._band_keys_v1(sig, 19_787) == band_keys(sig, 19_787)
    for when in (datetime(2024, 3, 5, 23, 59, 59), datetime(2024, 3, 6, 0, 0)):  # naive UTC, as the column holds
        assert migration._day_v1(when) == day_of(when.replace(tzinfo=UTC))
    assert migration._band_keys_v1(b"", 1) == band_keys(b"", 1) == []


def test_processes_that_start_together_on_a_new_database_all_get_its_schema(database_url: str) -> None:
    # Distributed workers started at once each migrate the empty database: one creates, the others wait and find it.
    import subprocess
    import sys

    from tests.crawler.cli_helpers import ROOT

    code = f"from pipelines.storage import Storage; Storage.acquire({database_url!r}).release()"
    starts = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.communicate(timeout=120)[1], p.returncode) for p in starts]
    assert [code for _, code in results] == [0, 0, 0, 0], results
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_head_names_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_database_at_head_is_not_handed_to_alembic(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command

    engine = open_database(database_url)
    try:
        upgrades: list[str] = []
        monkeypatch.setattr(command, "upgrade", lambda config, revision: upgrades.append(revision))
        migrate(engine)
        assert upgrades == []
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
        migrate(engine)
        assert upgrades == ["head"]
    finally:
        engine.dispose()


def test_sqlite_keeps_its_temporary_files_in_memory(tmp_path: Path) -> None:
    """Each article's savepoint journal must not be a file created and unlinked per batch."""
    engine = make_engine(f"sqlite:///{tmp_path}/finews.db")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
    finally:
        engine.dispose()
