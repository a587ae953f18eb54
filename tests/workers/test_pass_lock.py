"""One pass per account at a time across processes: while a worker's pass of an account
runs, a second queued pass of it (on another worker) and ``nudger cycle`` (in its own
process) both skip it, as skipped, not failed.

The first pass outlives the visibility timeout (5 s), so Redis hands its message to the
other worker while it still runs: that copy sees the lease renewed and retries later,
rather than acknowledging a message whose first delivery may yet die. It does die (the
worker is killed), and the retried pass completes.
"""

from __future__ import annotations

import time
from pathlib import Path

from nudger.clock import utcnow
from nudger.workers.enqueue import PassQueue
from tests.workers.fleet import fleet
from tests.workers.test_worker_lost import SHORT, holding_worker, wait_for_hold

SKIPPED = "another pass of this account is running"


def test_a_second_pass_of_a_running_account_is_skipped_on_any_process(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with fleet(database_url, redis_url, tmp_path, owners=1, **SHORT) as scene:
        holder = scene.start_worker("holder", **holding_worker(scene))
        holder.wait_ready()
        queue = PassQueue(scene.runtime)
        first = queue.enqueue_all(utcnow())
        wait_for_hold(scene)
        other = scene.start_worker("other")  # only now: the first pass is the holder's
        other.wait_ready()

        [second] = queue.wait(queue.enqueue_all(utcnow()), lambda report: None)
        in_process = scene.nudger("cycle")

        assert second.skipped == SKIPPED
        assert second.error is None
        assert in_process.returncode == 0, in_process.stdout + in_process.stderr
        assert f"skipped: {SKIPPED}" in in_process.stdout

        deadline = time.monotonic() + 30
        while "still runs under this task; retrying later" not in other.output():
            assert time.monotonic() < deadline, other.output()
            time.sleep(0.1)  # the redelivered copy (vt 5 s + 1 s sweep + a renewal seen)
        holder.kill()
        [redone] = queue.wait(first, lambda report: None)
        assert redone.skipped is None
        assert redone.error is None
        assert max(scene.sent_keys().values()) == 1
