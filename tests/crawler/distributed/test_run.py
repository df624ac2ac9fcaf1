"""The run lock, the shared run state and the shared host delay, against the real Redis."""

from __future__ import annotations

import time

import pytest
import redis

from crawler.distributed import Keys, RedisUnavailable, connect, require
from crawler.distributed.politeness import SharedHostDelayMiddleware
from crawler.distributed.run import RunLock, SharedRun, redis_report
from crawler.lock import LockBusy
from crawler.report import RunReport

KEYS = Keys("finews-test")


def test_one_run_at_a_time_across_clients(redis_url: str) -> None:
    first, second = connect(redis_url), connect(redis_url)  # two machines, as far as Redis can tell
    with RunLock(first, KEYS), pytest.raises(LockBusy, match="another finews run is active"), RunLock(second, KEYS):
        pass
    with RunLock(second, KEYS):
        assert first.get(KEYS.lock) is not None
    assert first.get(KEYS.lock) is None


def test_a_dead_holder_blocks_for_one_lease_at_most(redis_url: str) -> None:
    client = connect(redis_url)
    client.set(KEYS.lock, "gone:1:dead", px=300)  # a coordinator killed with SIGKILL renews nothing
    with pytest.raises(LockBusy, match="gone:1:dead"), RunLock(client, KEYS):
        pass
    time.sleep(0.4)
    with RunLock(client, KEYS):
        pass


def test_the_holder_keeps_its_lease_and_the_run_key(redis_url: str) -> None:
    client = connect(redis_url)
    lock = RunLock(client, KEYS, lease_s=0.4)
    with lock:
        SharedRun(client, KEYS).begin(7, lease_s=0.4)
        time.sleep(1.0)  # more than two leases: only the renewals keep them
        assert client.get(KEYS.run) == b"7"
        assert not lock.lost
    assert client.get(KEYS.run) is None  # workers learn the run is over


def test_what_the_processes_of_a_run_share(redis_url: str) -> None:
    shared = SharedRun(connect(redis_url), KEYS)
    other = SharedRun(connect(redis_url), KEYS)
    shared.begin(3)
    assert other.current() == 3
    shared.claim(3, ["NW1", "NW2"])
    assert other.claimed(3, ["NW2", "NW3"]) == {"NW2"}
    assert other.claimed(4, ["NW2"]) == set()
    shared.count(3, "https://list?page=1", "items", 50)
    other.count(3, "https://list?page=1", "items", 20)
    other.count(3, "https://list?page=1", "requests")
    assert shared.figures(3) == {"https://list?page=1": {"requests": 1, "items": 70, "failures": 0, "requested": 0}}
    shared.result(3, "NW1", "new", "_posts/x.md")
    other.result(3, "NW2", "failed", "content API: 404")
    other.add_stats(3, {"downloader/request_count": 5})
    shared.add_stats(3, {"downloader/request_count": 2})
    report, stats = RunReport(), {"downloader/request_count": 2, "finish_reason": "finished"}
    shared.gather(3, report, stats)
    assert report.counts()["new"] == 1 and report.counts()["failed"] == 1
    assert stats == {"downloader/request_count": 7, "finish_reason": "finished"}


def test_status_sees_the_queue_and_the_workers(redis_url: str) -> None:
    client = connect(redis_url)
    shared = SharedRun(client, KEYS)
    shared.beat("host-a:11", {"role": "worker", "busy": True, "seen": time.time()})
    shared.beat("host-b:12", {"role": "coordinator", "busy": False, "seen": time.time()})
    client.zadd(KEYS.queue, {"a": 0, "b": 1})
    found = redis_report(client, KEYS)
    assert found["queue"] == 2 and found["run"] is None
    assert [(w["name"], w["role"], w["busy"]) for w in found["workers"]] == [
        ("host-a:11", "worker", True), ("host-b:12", "coordinator", False)]
    shared.leave("host-a:11")
    assert [w["name"] for w in redis_report(client, KEYS)["workers"]] == ["host-b:12"]


def test_the_host_delay_holds_across_processes(redis_url: str) -> None:
    one = SharedHostDelayMiddleware(connect(redis_url), KEYS, delay=0.2)
    two = SharedHostDelayMiddleware(connect(redis_url), KEYS, delay=0.2)
    waits = [mw.wait_for("np-listapi.eastmoney.com") for mw in (one, two, one, two)]
    # Each reservation is one delay after the last, whoever made it.
    assert waits[0] == pytest.approx(0, abs=0.02)
    for n, wait in enumerate(waits[1:], 1):
        assert wait == pytest.approx(0.2 * n, abs=0.05)
    assert one.wait_for("other.host") == pytest.approx(0, abs=0.02)  # per host


def test_without_redis_the_delay_is_still_kept() -> None:
    mw = SharedHostDelayMiddleware(redis.Redis(port=1, socket_connect_timeout=0.5), KEYS, delay=0.3)
    assert mw.wait_for("h") == 0.3


def test_a_redis_that_does_not_answer_is_named_without_its_password() -> None:
    with pytest.raises(RedisUnavailable, match=r"Redis at redis://127.0.0.1:1/0 is not answering") as raised:
        require(connect("redis://user:secret@127.0.0.1:1/0"), "redis://user:secret@127.0.0.1:1/0")
    assert "secret" not in str(raised.value)
