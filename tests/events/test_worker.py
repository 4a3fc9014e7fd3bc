"""Production mode (DESIGN §2): with a broker, post-intake work runs on Celery workers. A
worker killed in the middle of an event loses nothing and does nothing twice: the outbox row
written with the event survives, the message is redelivered or re-sent, and the work is
idempotent. This runs a real instance (its own database), real Redis and real workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.instance import CLI, instance

BROKER = "redis://127.0.0.1:6379/14"
WORKER_DB = "civicgrid_worker"
LEAF = "010101"  # 在建违法建设（制止停工）: known, so each event is accepted and dispatched

SUBMIT = f"""
from civicgrid.events import services as s
from civicgrid.geo.models import Region
g = Region.objects.filter(level="grid", code__startswith="440306017").order_by("code").first()
for i in range(3):
    e, _ = s.submit("hotline-gateway", s.Intake(channel="upper", source_ref=f"W{{i}}",
        description=f"第{{i}}号楼顶有人正在搭建铁皮房{{'甲乙丙'[i]}}", category="{LEAF}",
        lon=g.lon + i * 0.01, lat=g.lat))
"""
CHECK = """
import json
from civicgrid.events.models import Outbox, Task, TimelineEntry
print(json.dumps({
    "events": Outbox.objects.count(),
    "undone": Outbox.objects.filter(done_at=None).count(),
    "accept": TimelineEntry.objects.filter(action="accept").count(),
    "dispatch": TimelineEntry.objects.filter(action="dispatch").count(),
    "tasks": Task.objects.filter(lead=True).count(),
}))
"""


@pytest.fixture
def running(tmp_path):
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    with instance(tmp_path, WORKER_DB) as env:
        env["CIVICGRID_BROKER_URL"] = BROKER
        env["CIVICGRID_BROKER_VISIBILITY"] = "3"
        yield CLI, env, tmp_path


def _shell(cli, env, code: str) -> str:
    r = subprocess.run(
        [*cli, "shell", "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def _state(cli, env) -> dict:
    return json.loads(_shell(cli, env, CHECK).strip().splitlines()[-1])


def _worker(cli, env, log: Path, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [*cli, "worker", "--pool", "solo", "--loglevel", "INFO"],
        env=env | extra,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_loses_nothing_and_nothing_runs_twice(running):
    cli, env, tmp = running
    _shell(cli, env, SUBMIT)  # three events wait in the broker
    # a worker that will be killed in the middle of its first event
    first_log = tmp / "worker1.log"
    first = _worker(cli, env, first_log, CIVICGRID_TEST_TASK_PAUSE="60")
    try:
        _wait(lambda: "received" in first_log.read_text(), 30, "a task to start")
        time.sleep(1.0)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    state = _state(cli, env)
    assert state["events"] == 3 and state["undone"] == 3  # the killed work left no trace
    assert state["dispatch"] == 0
    # a new worker picks everything up: the dead one's message and the two never started
    second_log = tmp / "worker2.log"
    second = _worker(cli, env, second_log)
    try:
        _wait(lambda: _state(cli, env)["undone"] == 0, 90, "the outbox to drain")
        time.sleep(5)  # let any redelivered duplicate arrive and find nothing to do
        state = _state(cli, env)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    assert state == {"events": 3, "undone": 0, "accept": 3, "dispatch": 3, "tasks": 3}
