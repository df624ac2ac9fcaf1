"""``Storage``: the database of one process, and every query the spiders, the CLI and the store need.

One engine per database URL per process, opened and migrated by the first
:meth:`Storage.acquire` and disposed when the last holder calls :meth:`release`:
the command that starts a run acquires it first, and the spider, the store stage
and the failure ledger of that run share it.  Spiders and commands never write
SQL; they call the methods below, each one short transaction.  The store stage
and the projection (pipelines.writer, pipelines.projection) work on
``storage.engine`` inside transactions of their own.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, func, select

from crawler.config_values import sqlite_file
from pipelines import backfill_progress, backlog, run_records
from pipelines.db import make_engine
from pipelines.db import migrate as migrate_schema
from pipelines.models import aliases, articles, categories, quarantine, run_lists, runs
from pipelines.records import lock_writers

LAST_RUNS = 10  # runs shown by `finews status`


@dataclass(frozen=True)
class ListRun:
    """One list in one finished run."""

    run_id: int
    items: int
    failures: int


class Storage:
    _open: ClassVar[dict[str, tuple[Storage, int]]] = {}

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.migrated = False

    # --- lifetime -----------------------------------------------------------------
    @classmethod
    def acquire(cls, url: str, *, migrate: bool = True) -> Storage:
        """The process's storage for *url*, opened on first use; the schema is migrated once,
        by the first holder that asks (a dry run reads a database as it finds it)."""
        storage, count = cls._open.get(url) or (cls(url, make_engine(url)), 0)
        if migrate and not storage.migrated:
            try:
                migrate_schema(storage.engine)
            except BaseException:
                if count == 0:
                    storage.engine.dispose()
                raise
            storage.migrated = True
        cls._open[url] = (storage, count + 1)
        return storage

    def release(self) -> None:
        """Give back one :meth:`acquire`; the last one disposes of the engine."""
        storage, count = self._open.get(self.url, (self, 1))
        if count > 1:
            self._open[self.url] = (storage, count - 1)
            return
        self._open.pop(self.url, None)
        self.engine.dispose()

    @staticmethod
    def exists(url: str) -> bool:
        """False for a SQLite file that is not there yet (a server database may always hold data)."""
        path = sqlite_file(url)
        return path is None or path.exists()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction that holds the writer lock (pipelines.records)."""
        with self.engine.begin() as conn:
            lock_writers(conn)
            yield conn

    # --- what a crawl asks ------------------------------------------------------------
    def due(self, source: str, now: datetime) -> list[backlog.Owed]:
        with self.engine.connect() as conn:
            return backlog.due(conn, source, now)

    def listed_state(self, source: str, codes: Sequence[str]) -> tuple[dict[str, dict[str, Any]], dict[str, backlog.Owed]]:
        """For listed *codes*: the stored list metadata of each stored one, and the backlog row of each owed one."""
        with self.engine.connect() as conn:
            return stored_meta(conn, source, codes), backlog.owed(conn, source, codes)

    def walk_finished(self, source: str, url: str) -> bool:
        with self.engine.connect() as conn:
            return backlog.walk_finished(conn, source, url)

    def record_list_page(
        self, source: str, url: str, listed: Mapping[str, dict[str, Any]], now: datetime, *,
        first: bool, last: int | None, new: Collection[str] = (),
    ) -> None:
        """One list page in one transaction: owe *listed* (code → hints) before any request leaves,
        mark the walk over *url* started on its *first* page, finished on its *last* (page number).
        *new*: the codes that were not stored when the page was read (see ``backlog.record_listed``)."""
        with self.writing() as conn:
            backlog.record_listed(conn, source, listed, now, new)
            if first:
                backlog.start_walk(conn, source, url, now)
            if last is not None:
                backlog.finish_walk(conn, source, url, last, now)

    def list_hints(
        self, source: str, codes: Sequence[str], lists: Sequence[Mapping[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """The hints a crawl gave each stored code of *codes*, from the list that named it.

        *lists* are the configured lists (``FINEWS_LISTS``); a list no longer
        configured still gives its fields, without a category or tag.
        """
        by_url = {lst["url"]: lst for lst in lists}
        with self.engine.connect() as conn:
            stored = stored_meta(conn, source, codes)
        hints = {}
        for code, meta_by_url in stored.items():
            if not meta_by_url:
                continue
            url, meta = next(iter(meta_by_url.items()))
            lst = by_url.get(url, {})
            hints[code] = {
                "title": meta.get("title"),
                "date": meta.get("showtime"),
                "outlet": meta.get("outlet"),
                "category": lst.get("category"),
                "tag": lst.get("tag"),
                "list_meta": {url: meta},
            }
        return hints

    def record_failure(
        self, source: str, code: str, reason: str, now: datetime, retry: backlog.Retry, *, ours: bool
    ) -> backlog.Owed | None:
        with self.writing() as conn:
            return backlog.record_failure(conn, source, code, reason, now, retry, ours=ours)

    # --- what a backfill asks ---------------------------------------------------------
    def resume_backfill(self, source: str, url: str, since: date, until: date, now: datetime) -> backfill_progress.Progress:
        """Where the backfill of the list at *url* for [since, until] starts (pipelines.backfill_progress)."""
        with self.writing() as conn:
            return backfill_progress.resume(conn, source, url, since, until, now)

    def record_backfill_page(
        self, source: str, url: str, since: date, until: date, listed: Mapping[str, dict[str, Any]], now: datetime, *,
        next_url: str | None, oldest: datetime | None, new: Collection[str] = (),
    ) -> None:
        """One backfill page in one transaction: owe *listed* (code → hints) before any request
        leaves, and move the walk's cursor to *next_url* (None: the walk is complete)."""
        with self.writing() as conn:
            backlog.record_listed(conn, source, listed, now, new)
            backfill_progress.advance(conn, source, url, since, until, next_url=next_url, oldest=oldest, now=now)

    def backfill_progress(self, source: str, url: str, since: date, until: date) -> backfill_progress.Progress | None:
        with self.engine.connect() as conn:
            return backfill_progress.read(conn, source, url, since, until)

    def forget_owed(self, source: str, code: str) -> None:
        """Nothing is owed for *code* any more although it was not stored (a backfill found it
        outside its range once fetched)."""
        with self.writing() as conn:
            backlog.settle(conn, source, code)

    # --- runs -------------------------------------------------------------------------
    def mark_killed(self) -> list[int]:
        return run_records.mark_killed(self.engine)

    def start_run(self, command: str) -> int:
        return run_records.start_run(self.engine, command)

    def finish_run(self, run_id: int, *, status: str, counts: Mapping[str, int], requests: int, seconds: float) -> None:
        run_records.finish_run(self.engine, run_id, status=status, counts=counts, requests=requests, seconds=seconds)

    def record_run_lists(self, run_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
        run_records.record_run_lists(self.engine, run_id, rows)

    def set_health(self, run_id: int, health: str) -> None:
        run_records.set_health(self.engine, run_id, health)

    def previous_health(self, run_id: int) -> str | None:
        """The health recorded by the last run before *run_id* that recorded one."""
        query = select(runs.c.health).where(runs.c.health.is_not(None) & (runs.c.id != run_id)).order_by(runs.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def list_history(self, list_urls: Sequence[str], last_runs: int) -> tuple[datetime | None, dict[str, list[ListRun]]]:
        """When the last crawl finished, and each list's figures in the last *last_runs* finished crawls, newest first."""
        finished = (runs.c.command == "crawl") & runs.c.finished_at.is_not(None)
        history: dict[str, list[ListRun]] = {url: [] for url in list_urls}
        with self.engine.connect() as conn:
            last = conn.execute(select(runs.c.finished_at).where(finished).order_by(runs.c.finished_at.desc()).limit(1)).scalar()
            recent = [row.id for row in conn.execute(select(runs.c.id).where(finished).order_by(runs.c.id.desc()).limit(last_runs))]
            if recent:
                query = select(run_lists).where(run_lists.c.run_id.in_(recent) & run_lists.c.url.in_(list(list_urls)))
                for row in conn.execute(query.order_by(run_lists.c.run_id.desc())):
                    history[row.url].append(ListRun(row.run_id, row.items, row.failures))
        return last, history

    # --- what `finews status` shows -------------------------------------------------------
    def status_report(self, lists: Sequence[Any]) -> dict[str, Any]:
        """Articles per category, the last runs, each of *lists*' last run, the backlog and the quarantine."""
        with self.engine.connect() as conn:
            per_category = conn.execute(
                select(categories.c.slug, categories.c.title, func.count(articles.c.id))
                .select_from(categories.outerjoin(articles, articles.c.category == categories.c.slug))
                .group_by(categories.c.slug, categories.c.title)
                .order_by(func.count(articles.c.id).desc(), categories.c.slug)
            ).all()
            last_runs = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(LAST_RUNS)).mappings().all()
            shown = []
            for lst in lists:
                query = select(run_lists).where(run_lists.c.url == lst.url).order_by(run_lists.c.run_id.desc()).limit(1)
                row = conn.execute(query).mappings().first()
                shown.append({"url": lst.url, "kind": lst.kind, "last_run": dict(row) if row else None})
            troubled = backlog.troubled(conn)
            held = conn.execute(select(quarantine).order_by(quarantine.c.updated_at.desc())).mappings().all()
            pending = backlog.pending_count(conn)
        return {
            "articles": sum(count for _, _, count in per_category),
            "categories": [{"slug": slug, "title": title, "articles": count} for slug, title, count in per_category],
            "runs": [{**{k: v for k, v in run.items() if k != "counts"}, "counts": json.loads(run["counts"] or "{}")} for run in last_runs],
            "lists": shown,
            "pending": pending,
            "failing": [_article_line(row) for row in troubled if row["parked_at"] is None],
            "parked": [_article_line(row) for row in troubled if row["parked_at"] is not None],
            "quarantine": [{"code": row["code"], "reason": row["reason"], "since": row["created_at"]} for row in held],
        }


def stored_meta(conn: Connection, source: str, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Stored list metadata, by list URL, of those *codes* that are in the database.

    Aliases (codes stored as duplicates of another article) count with their own
    list metadata.  Quarantined codes count as stored with unchanged metadata:
    refetching an unpublishable article every few minutes would fail every run;
    ``finews fetch CODE`` retries one by hand.
    """
    if not codes:
        return {}
    codes = list(codes)
    stored = select(articles.c.code, articles.c.list_meta).where((articles.c.source == source) & articles.c.code.in_(codes))
    alias = select(aliases.c.code, aliases.c.list_meta).where((aliases.c.source == source) & aliases.c.code.in_(codes))
    held = select(quarantine.c.code).where((quarantine.c.source == source) & quarantine.c.code.in_(codes))
    found = {row.code: json.loads(row.list_meta or "{}") for row in conn.execute(stored)}
    found.update({row.code: json.loads(row.list_meta or "{}") for row in conn.execute(alias)})
    found.update({row.code: {} for row in conn.execute(held)})
    return found


def _article_line(row: Any) -> dict[str, Any]:
    return {"code": row["code"], "attempts": row["attempts"], "reason": row["last_reason"],
            "next_attempt_at": row["next_attempt_at"], "parked_at": row["parked_at"]}
