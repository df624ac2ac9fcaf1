"""Distributed runs end to end (SPEC §10, RELIABILITY group D): real `finews` processes sharing the real
Redis and the real PostgreSQL, on the replay with 50 ms added to every answer."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
import yaml

from crawler.distributed import Keys
from crawler.replay import ReplayServer
from tests.conftest import fresh_database, require_command
from tests.crawler.cli_helpers import finews
from tests.crawler.distributed.support import Processes, distributed_settings, site_files, stored

pytestmark = pytest.mark.postgres

ARTICLES = 2000
SLOW = "*:*=slow:0.05"  # every answer 50 ms late: a remote site, not loopback
KEYS = Keys("finews-test")


def summary(out: str) -> dict[str, object]:
    return json.loads(out.strip().splitlines()[-1])


def stop(workers: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """SIGTERM each worker (a clean stop: what is in flight is finished) and collect its exit and output."""
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    return [(w.wait(timeout=120), *w.communicate()) for w in workers]


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def wait_for_helpers(settings: Path, count: int, cwd: Path) -> None:
    """Until *count* helpers publish heartbeats: workers are daemons that wait for runs, up before the run starts."""
    def up() -> bool:
        status = finews("-c", str(settings), "status", "--json", cwd=cwd)
        return status.returncode == 0 and len(json.loads(status.stdout)["redis"]["workers"]) >= count

    if count:
        wait_for(up, 120, f"{count} helpers' heartbeats")


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(articles=ARTICLES, page_size=50, faults=SLOW) as server:
        yield server


@pytest.mark.timeout(900)
def test_three_workers_store_every_article_once_in_under_half_the_time(
    replay: ReplayServer, postgres_server: str, redis_url: str, processes: Processes, tmp_path: Path
) -> None:
    seconds = {}
    for n in (1, 3):
        folder = tmp_path / f"workers-{n}"
        folder.mkdir()
        with fresh_database(postgres_server) as database:
            settings = distributed_settings(folder, replay, database, redis_url)
            helpers = [processes.start(settings, "worker", "--json") for _ in range(n - 1)]
            wait_for_helpers(settings, len(helpers), folder)
            api = replay.count("api")
            began = time.monotonic()
            run = finews("-c", str(settings), "crawl", "--json", cwd=folder, timeout=900)
            seconds[n] = time.monotonic() - began
            stopped = stop(helpers)
            assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
            assert all(code == 0 for code, _, _ in stopped), stopped
            result = summary(run.stdout)
            assert (result["status"], result["new"], result["failed"]) == ("ok", ARTICLES, 0)
            assert stored(database) == {"articles": ARTICLES, "codes": ARTICLES, "aliases": 0, "backlog": 0}
            assert site_files(folder / "site") == {"posts": ARTICLES, "partial": 0}
            assert replay.count("api") - api == ARTICLES  # each article fetched once, whichever process listed it
            if helpers:
                worked = [summary(out)["new"] for _, out, _ in stopped]
                assert all(int(str(n_new)) > 0 for n_new in worked), worked  # every worker took a share
    ratio = seconds[3] / seconds[1]
    print(f"distributed: {ARTICLES} articles, 50 ms per answer, one request per host per process: "
          f"1 process {seconds[1]:.1f} s, 3 processes {seconds[3]:.1f} s, ratio {ratio:.2f}")
    assert ratio < 0.5


@pytest.mark.timeout(900)
def test_a_worker_killed_mid_run_loses_nothing(
    replay: ReplayServer, postgres_url: str, redis_url: str, processes: Processes, tmp_path: Path
) -> None:
    settings = distributed_settings(tmp_path, replay, postgres_url, redis_url)
    helpers = [processes.start(settings, "worker") for _ in range(2)]
    wait_for_helpers(settings, 2, tmp_path)
    coordinator = processes.start(settings, "crawl", "--json")
    wait_for(lambda: stored(postgres_url)["articles"] >= 400, 300, "400 stored articles")
    # While the run goes on: a second scheduled run waits its turn, and status sees the workers.
    busy = finews("-c", str(settings), "crawl", cwd=tmp_path)
    assert busy.returncode == 75 and "another finews run is active" in busy.stderr, busy.stderr
    status = finews("-c", str(settings), "status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    seen = json.loads(status.stdout)["redis"]
    assert seen["run"] is not None and len(seen["workers"]) == 3, seen
    victim = helpers[0]
    victim.send_signal(signal.SIGKILL)  # it holds popped requests and an unfinished batch
    _, err = coordinator.communicate(timeout=600)
    assert coordinator.returncode in (0, 1), err[-2000:]
    after_kill = stored(postgres_url)
    # What the killed worker had taken is owed in the backlog (its articles) or unread (its list
    # pages: those walks did not finish, so the next run walks those lists to their end).
    assert after_kill["articles"] < ARTICLES, after_kill
    rerun = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    stop(helpers[1:])
    assert stored(postgres_url) == {"articles": ARTICLES, "codes": ARTICLES, "aliases": 0, "backlog": 0}
    assert site_files(tmp_path / "site") == {"posts": ARTICLES, "partial": 0}
    assert summary(rerun.stdout)["new"] == ARTICLES - after_kill["articles"]
    print(f"distributed: a worker SIGKILLed after 400 of {ARTICLES} articles; the run ended with {after_kill['articles']} stored "
          f"and {after_kill['backlog']} owed; the next run stored the other {ARTICLES - after_kill['articles']}")


def test_a_pickle_in_the_queue_is_refused_not_run(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {canary}",))

    payload = pickle.dumps({"url": "http://127.0.0.1/", "callback": "parse_list_page", "x": Exploit()})
    client = redis.Redis.from_url(redis_url)
    client.zadd(KEYS.queue, {payload: -100})  # where scrapy-redis's PriorityQueue keeps requests: popped first
    with ReplayServer(articles=30, page_size=10) as small:
        settings = distributed_settings(tmp_path, small, postgres_url, redis_url)
        run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert summary(run.stdout)["new"] == 30
    assert not canary.exists()
    assert "rejected a queue entry" in run.stderr and "not JSON" in run.stderr
    assert client.lrange(KEYS.rejected, 0, -1) == [payload]  # kept, byte for byte, for a look
    status = finews("-c", str(settings), "status", cwd=tmp_path)
    assert "1 rejected queue entries kept" in status.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server(processes: Processes, port: int) -> subprocess.Popen[str]:
    """A redis-server of the test's own on *port*, to kill (no snapshot, no AOF: it restarts empty)."""
    server = processes.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    client = redis.Redis(port=port)
    wait_for(lambda: _answers(client), 10, "redis-server")
    return server


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.mark.timeout(600)
def test_redis_dying_mid_run_fails_the_run_without_a_busy_loop(postgres_url: str, processes: Processes, tmp_path: Path) -> None:
    require_command("redis-server", "redis-server")
    port = free_port()
    server = redis_server(processes, port)
    with ReplayServer(articles=300, page_size=20, faults=SLOW) as small:
        settings = distributed_settings(tmp_path, small, postgres_url, f"redis://127.0.0.1:{port}/0", redis={"max_outage": "4s"})
        coordinator = processes.start(settings, "crawl", "--json")
        wait_for(lambda: stored(postgres_url)["articles"] >= 30, 120, "30 stored articles")
        server.kill()
        server.communicate()
        killed_at = time.monotonic()
        process = psutil.Process(coordinator.pid)
        time.sleep(1.0)
        cpu_before = sum(process.cpu_times()[:2])
        time.sleep(2.0)
        spent = sum(process.cpu_times()[:2]) - cpu_before
        out, err = coordinator.communicate(timeout=120)
        took = time.monotonic() - killed_at
        assert spent < 0.5, f"{spent:.2f} s of CPU in 2 s of outage: a busy loop"
        assert coordinator.returncode == 1, out[-2000:] + err[-2000:]
        assert summary(out)["status"] == "failed"
        assert "Redis" in err
        assert took < 60
        # What was stored stays stored, with its post; the rest is owed to the next run.
        state = stored(postgres_url)
        assert site_files(tmp_path / "site") == {"posts": state["articles"], "partial": 0}
        assert state["articles"] < 300
        redis_server(processes, port)  # back, and empty
        again = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert stored(postgres_url) == {"articles": 300, "codes": 300, "aliases": 0, "backlog": 0}
    assert site_files(tmp_path / "site") == {"posts": 300, "partial": 0}


def test_setup_errors_are_one_line(tmp_path: Path) -> None:
    with ReplayServer(articles=1) as small:
        sqlite = distributed_settings(tmp_path, small, "sqlite:///finews.db", "redis://127.0.0.1:6379/14")
        run = finews("-c", str(sqlite), "crawl", cwd=tmp_path)
        assert run.returncode == 2 and "needs a PostgreSQL database.url" in run.stderr
        nowhere = distributed_settings(tmp_path, small, "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                                       f"redis://127.0.0.1:{free_port()}/0")
        for command in ("crawl", "worker"):
            run = finews("-c", str(nowhere), command, cwd=tmp_path)
            assert run.returncode == 1, run.stderr
            assert run.stderr.count("\n") == 1 and "is not answering" in run.stderr, run.stderr
        plain = tmp_path / "plain"
        plain.mkdir()
        (plain / "settings.yaml").write_text("database: {url: 'sqlite:///finews.db'}\n", encoding="utf-8")
        run = finews("-c", str(plain / "settings.yaml"), "worker", cwd=plain)
        assert run.returncode == 2 and "worker needs distributed mode" in run.stderr


@pytest.mark.timeout(600)
def test_a_distributed_backfill_stores_exactly_the_range(postgres_url: str, redis_url: str, processes: Processes, tmp_path: Path) -> None:
    from tests.crawler.test_cli_backfill import api_requests, dated_in, paged_lists, undated_at_day_change

    # Answers as late as a remote site's: on bare loopback the coordinator can drain the queue
    # between two polls of the helpers, and the test must see them take part.
    with ReplayServer(articles=600, page_size=20, faults=SLOW) as small:
        oldest_first = small.articles[::-1]
        first = undated_at_day_change(oldest_first, 200)
        after = undated_at_day_change(oldest_first, 380)
        since, until = oldest_first[first].date[:10], oldest_first[after - 1].date[:10]
        expected = dated_in(small, since, until)
        settings = distributed_settings(tmp_path, small, postgres_url, redis_url)
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
        data["sources"]["eastmoney"]["lists"] = paged_lists(small)["lists"]  # two lists of 30 pages, max_pages 2
        settings.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        helpers = [processes.start(settings, "worker", "--json") for _ in range(2)]
        wait_for_helpers(settings, 2, tmp_path)
        run = finews("-c", str(settings), "backfill", "--since", since, "--until", until, "--json", cwd=tmp_path, timeout=500)
        stopped = stop(helpers)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    result = summary(run.stdout)
    assert (result["status"], result["new"], result["failed"]) == ("ok", len(expected), 0)
    assert stored(postgres_url) == {"articles": len(expected), "codes": len(expected), "aliases": 0, "backlog": 0}
    # The article after `until` that the lists show without a time was fetched (by some process) and dropped.
    assert oldest_first[after].code in set(api_requests(small)) - expected
    assert result["outside_range"] >= 1 and result["undated_unsure"] >= 2
    assert all(lst["complete"] and lst["pages"] > 4 for lst in result["lists"]), result["lists"]
    assert sum(int(str(summary(out)["new"])) for _, out, _ in stopped) > 0  # the workers took part


def test_a_worker_waits_for_runs_and_gives_up_on_a_dead_redis(postgres_url: str, processes: Processes, tmp_path: Path) -> None:
    require_command("redis-server", "redis-server")
    port = free_port()
    server = redis_server(processes, port)
    with ReplayServer(articles=3) as small:
        settings = distributed_settings(tmp_path, small, postgres_url, f"redis://127.0.0.1:{port}/0", redis={"max_outage": "3s"})
        once = finews("-c", str(settings), "worker", "--once", "--json", cwd=tmp_path, timeout=120)
        assert once.returncode == 0 and summary(once.stdout)["finish_reason"] == "finished", once.stderr  # no run: it leaves
        worker = processes.start(settings, "worker", "--json")
        wait_for(lambda: bool(redis.Redis(port=port).keys(f"{KEYS.prefix}:worker:*")), 30, "the worker's heartbeat")
        server.kill()
        server.communicate()
        killed_at = time.monotonic()
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 1, out + err
    assert summary(out)["finish_reason"] == "redis_unavailable"
    assert "Redis stayed unreachable" in err
    assert 3 <= time.monotonic() - killed_at < 30
