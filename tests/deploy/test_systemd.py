"""deploy/systemd: the units README "systemd timer" and "Distributed mode" install are valid and their commands run."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

from crawler.replay import ReplayServer
from tests.conftest import require_command
from tests.crawler.cli_helpers import ROOT, write_settings

UNITS = ROOT / "deploy" / "systemd"
HOME = "/home/finews/finews"  # where the units expect the checkout


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def installed(tmp_path: Path) -> Path:
    """The units as they would be installed for a checkout at *tmp_path*/finews."""
    project = tmp_path / "finews"
    (project / ".venv").mkdir(parents=True)
    (project / ".venv" / "bin").symlink_to(Path(sys.prefix) / "bin")
    units = tmp_path / "units"
    units.mkdir()
    for path in UNITS.iterdir():
        (units / path.name).write_text(path.read_text(encoding="utf-8").replace(HOME, str(project)), encoding="utf-8")
    return units


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    require_command("systemd-analyze", "systemd")
    units = installed(tmp_path)
    names = ["finews.service", "finews.timer", "finews-worker.service"]
    done = subprocess.run(["systemd-analyze", "verify", *(str(units / name) for name in names)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_timer_starts_the_service_every_five_minutes_and_a_busy_lock_is_no_failure() -> None:
    timer, service = unit("finews.timer"), unit("finews.service")
    assert timer["Timer"]["OnUnitActiveSec"] == "5min" and timer["Install"]["WantedBy"] == "timers.target"
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["SuccessExitStatus"] == "75"  # EXIT_BUSY: another run holds the lock


def test_the_service_command_crawls_in_its_working_directory(tmp_path: Path) -> None:
    units = installed(tmp_path)
    service = configparser.ConfigParser(interpolation=None, strict=False)
    service.read(units / "finews.service", encoding="utf-8")
    command, folder = shlex.split(service["Service"]["ExecStart"]), Path(service["Service"]["WorkingDirectory"])
    with ReplayServer(articles=5) as replay:
        write_settings(folder, replay.templates())
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("FINEWS_CONFIG", None)
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((folder / "site" / "_posts").glob("*.md"))) == 5


def test_the_worker_unit_runs_a_worker_that_stops_cleanly_on_sigterm(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    import signal
    import time

    worker = unit("finews-worker.service")
    assert worker["Service"]["Restart"] == "on-failure"  # exit 1: Redis stayed away; 0 after a SIGTERM
    assert worker["Install"]["WantedBy"] == "multi-user.target"
    units = installed(tmp_path)
    service = configparser.ConfigParser(interpolation=None, strict=False)
    service.read(units / "finews-worker.service", encoding="utf-8")
    command, folder = shlex.split(service["Service"]["ExecStart"]), Path(service["Service"]["WorkingDirectory"])
    with ReplayServer(articles=5) as replay:
        write_settings(folder, replay.templates(), database={"url": postgres_url}, redis={"url": redis_url})
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("FINEWS_CONFIG", None)
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert process.poll() is None, process.communicate()  # a daemon: it waits for runs
        process.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    assert "worker stopped (shutdown)" in out
