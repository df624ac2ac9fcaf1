"""``finews status --check`` and the alerts webhook (SPEC §3 ``health``/``alerts``, §4)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from crawler.config import HealthConfig
from crawler.health import ListRun, judge
from crawler.replay import ReplayServer
from tests.crawler.cli_helpers import finews, write_settings
from tests.loopback import LoopbackHTTPServer, Serving

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONFIG = HealthConfig(max_age_s=1800, failing_runs=3)


def test_judge_healthy() -> None:
    history = {"u": [ListRun(3, 50, 0), ListRun(2, 0, 1), ListRun(1, 0, 1)]}
    assert judge(NOW - timedelta(minutes=29), history, NOW, CONFIG).reasons == []


def test_judge_stale_and_never() -> None:
    assert judge(None, {}, NOW, CONFIG).reasons == ["no crawl run has finished yet"]
    (reason,) = judge(NOW - timedelta(minutes=95), {}, NOW, CONFIG).reasons
    assert reason == "the last crawl finished 1 h 35 min ago (health.max_age is 30 min)"


def test_judge_lists() -> None:
    failing = [ListRun(n, 0, 1) for n in (3, 2, 1)]
    empty_or_failing = [ListRun(3, 0, 0), ListRun(2, 0, 1), ListRun(1, 0, 0)]
    too_few = [ListRun(2, 0, 1), ListRun(1, 0, 1)]
    reasons = judge(NOW, {"a": failing, "b": empty_or_failing, "c": too_few}, NOW, CONFIG).reasons
    assert reasons == ["list a failed in each of the last 3 runs", "list b failed or listed nothing in each of the last 3 runs"]


class Receiver(Serving):
    """A loopback webhook that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        server = LoopbackHTTPServer(("127.0.0.1", 0), Handler)
        super().__init__(server)
        self.url = f"http://127.0.0.1:{server.server_port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as hook:
        yield hook


def test_check_exit_codes_and_one_message_per_change(receiver: Receiver, tmp_path: Path) -> None:
    with ReplayServer(articles=6, page_size=5) as replay:
        templates = replay.templates()
        templates["lists"] = [lst for lst in templates["lists"] if lst["kind"] in ("columns", "records")]
        columns = next(lst["url"] for lst in templates["lists"] if lst["kind"] == "columns")
        settings = write_settings(
            tmp_path, templates, crawl={"retries": 0}, health={"failing_runs": 2, "max_age": "30m"}, alerts={"webhook_url": receiver.url}
        )

        def check(*extra: str) -> Any:
            return finews("-c", str(settings), "status", "--check", *extra, cwd=tmp_path)

        never = check()
        assert never.returncode == 1 and never.stdout == "failing: no crawl run has finished yet\n"

        replay.set_faults("list:columns=status:500")
        exits = [finews("-c", str(settings), "crawl", cwd=tmp_path).returncode for _ in range(3)]
        assert exits == [1, 1, 1]  # a failed list fails the run
        failing = check()
        assert failing.returncode == 1
        assert failing.stdout == f"failing: list {columns} failed in each of the last 2 runs\n"
        assert json.loads(check("--json").stdout) == {"status": "failing", "reasons": [f"list {columns} failed in each of the last 2 runs"]}

        replay.set_faults("")
        for _ in range(2):
            assert finews("-c", str(settings), "crawl", cwd=tmp_path).returncode == 0
        healthy = check()
        assert healthy.returncode == 0 and healthy.stdout == "healthy\n"
        assert json.loads(check("--json").stdout) == {"status": "healthy", "reasons": []}

    # Run 1 failed once (healthy: fewer than 2 runs), run 2 turned failing, run 3 stayed
    # failing, run 4 recovered, run 5 stayed healthy: two changes, two messages.
    assert [body["status"] for body in receiver.bodies] == ["failing", "recovered"]
    assert receiver.bodies[0]["reasons"] == [f"list {columns} failed in each of the last 2 runs"]
    assert receiver.bodies[0]["run"] == 2 and receiver.bodies[1]["run"] == 4
    assert receiver.bodies[1]["reasons"] == []

    engine = create_engine(f"sqlite:///{tmp_path}/finews.db")
    with engine.begin() as conn:  # the schedule stopped an hour ago
        conn.exec_driver_sql("UPDATE runs SET finished_at = datetime(finished_at, '-60 minutes')")
    engine.dispose()
    stale = check()
    assert stale.returncode == 1
    assert stale.stdout.startswith("failing: the last crawl finished 1 h 0 min ago (health.max_age is 30 min)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failing_webhook_never_fails_the_run(tmp_path: Path) -> None:
    with ReplayServer(articles=3, page_size=5) as replay:
        replay.set_faults("list:*=status:500")
        dead = f"http://127.0.0.1:{free_port()}/hook"
        settings = write_settings(tmp_path, replay.templates(), crawl={"retries": 0}, health={"failing_runs": 1},
                                  alerts={"webhook_url": dead})
        run = finews("-c", str(settings), "crawl", cwd=tmp_path)
        assert run.returncode == 1  # for the failed lists, not for the webhook
        assert "finews: alerts.webhook_url: could not send the failing alert:" in run.stderr
        replay.set_faults("")
        run = finews("-c", str(settings), "crawl", cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert "could not send the recovered alert" in run.stderr


def test_status_shows_each_list_and_the_per_run_figures(tmp_path: Path) -> None:
    with ReplayServer(articles=12, page_size=5) as replay:
        templates = replay.templates()
        templates["lists"] = [{**lst, "max_pages": 2} for lst in templates["lists"] if lst["kind"] == "columns"]
        settings = write_settings(tmp_path, templates)
        assert finews("-c", str(settings), "crawl", cwd=tmp_path).returncode == 0
        report = json.loads(finews("-c", str(settings), "status", "--json", cwd=tmp_path).stdout)
    (lst,) = report["lists"]
    assert lst["last_run"]["requests"] == 2 and lst["last_run"]["items"] == 10 and lst["last_run"]["failures"] == 0
    assert lst["last_run"]["requested"] == 10
    assert report["health"] == {"status": "healthy", "reasons": []}
    assert report["runs"][0]["health"] == "healthy"
