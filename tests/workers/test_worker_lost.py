"""A worker dying mid-pass: every account still passes, nothing is sent or booked twice.

Real ``nudger worker`` processes on the local Redis, with a short visibility timeout
(5 s) and pass lease (3 s). One worker stops mid-delivery (the ``hold:`` failpoint,
right after its first provider call: an email sent or a hold booked, the outbox row
still ``claimed``), then is killed:

- the whole worker, pool included (power loss): no process is left to put the message
  back, so it waits in Redis' ``unacked`` hash until the other worker's sweep finds it
  older than the visibility timeout and requeues it;
- only the pool process running the pass (the OOM killer): the worker's main process
  rejects the message with requeue at once (``task_reject_on_worker_lost``; without it
  Celery acknowledges a message whose child died, and the pass would be lost).

Either way the pass runs again under the same task id, takes over the dead delivery's
pass lease once it lapses, leaves the claimed row alone (the outbox's claim, not the
broker, keeps the email from going twice) and delivers the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.workers.fleet import Fleet, fleet

HELD = "held"
SHORT = {"broker_visibility_timeout": "5", "pass_lease_seconds": "3"}


def holding_worker(scene: Fleet) -> dict[str, str]:
    return {
        "NUDGER_FAILPOINT": "hold:after_provider_call",
        "NUDGER_FAILPOINT_HELD": str(scene.folder / HELD),
    }


def wait_for_hold(scene: Fleet, timeout: float = 30) -> int:
    """The pid of the process stopped at the failpoint."""
    held = scene.folder / HELD
    deadline = time.monotonic() + timeout
    while not (held.exists() and held.read_text().strip()):
        assert time.monotonic() < deadline, "no worker reached the failpoint"
        time.sleep(0.05)
    return int(held.read_text())


def assert_every_account_passed_once_each_send(
    scene: Fleet, waiting: subprocess.Popen[str]
) -> None:
    output, _ = waiting.communicate(timeout=180)  # a guard against a hang, not a timing
    assert waiting.returncode == 0, output
    assert {status for status, _, _ in scene.passes().values()} == {"ok"}, scene.passes()
    sent, holds = scene.sent_keys(), scene.hold_ids()
    assert sent, "the passes sent no email"
    assert max(sent.values()) == 1, sent
    assert holds, "the passes booked no hold"
    assert max(holds.values()) == 1, holds
    assert scene.outbox()["claimed"] == 1  # the dead delivery's row: in doubt, never resent


def redelivered_after(scene: Fleet, victim: str, killed: float) -> float:
    """Seconds from the kill to the start of the victim account's pass that completed."""
    _, started, _ = scene.passes()[victim]
    assert started is not None
    return started.timestamp() - killed


def victim_of(scene: Fleet, worker_log: str) -> str:
    """The account whose pass the held worker was running (its log names the id)."""
    ids = {account_id: email for email, account_id in scene.account_ids().items()}
    started = [line for line in worker_log.splitlines() if "pass of account" in line]
    assert len(started) == 1, worker_log
    return ids[int(started[0].split("pass of account ")[1].split()[0])]


def test_a_killed_worker_s_pass_is_redelivered_to_another_and_nothing_is_sent_twice(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with fleet(database_url, redis_url, tmp_path, owners=2, **SHORT) as scene:
        doomed = scene.start_worker("doomed", **holding_worker(scene))
        survivor = scene.start_worker("survivor")
        doomed.wait_ready()
        survivor.wait_ready()
        waiting = scene.nudger_in_background("cycle", "--enqueue", "--wait")
        wait_for_hold(scene)
        victim = victim_of(scene, doomed.output())

        killed = doomed.kill()

        assert_every_account_passed_once_each_send(scene, waiting)
        took = redelivered_after(scene, victim, killed)
        print(f"redelivered {took:.1f} s after the whole worker was SIGKILLed")
        assert 0 < took < 5 + 1 + 3 + 6  # visibility timeout, sweep, lease, a loaded machine
        assert "(redelivered: its first delivery was never acknowledged)" in survivor.output()


def test_a_killed_pool_process_s_pass_is_requeued_at_once(redis_url: str, tmp_path: Path) -> None:
    """The broker's part only: on one database (the one above runs on each)."""
    sqlite = f"sqlite:///{tmp_path / 'nudger.db'}"
    with fleet(sqlite, redis_url, tmp_path, owners=2, **SHORT) as scene:
        worker = scene.start_worker("only", **holding_worker(scene))
        worker.wait_ready()
        waiting = scene.nudger_in_background("cycle", "--enqueue", "--wait")
        child = wait_for_hold(scene)
        victim = victim_of(scene, worker.output())

        os.kill(child, signal.SIGKILL)
        killed = time.time()

        assert_every_account_passed_once_each_send(scene, waiting)
        took = redelivered_after(scene, victim, killed)
        print(f"requeued {took:.1f} s after the pool process was SIGKILLed")
        assert 0 < took < 3 + 6  # the dead delivery's lease lapses; no visibility wait
