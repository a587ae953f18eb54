"""Passes on real ``nudger worker`` processes over the local Redis (no eager mode):
``nudger cycle --enqueue --wait`` runs every account's pass and prints each report; an
account removed while its pass waited on the queue is skipped, not failed.
"""

from __future__ import annotations

from pathlib import Path

from nudger.accounts import remove_account
from nudger.workers.status import pass_status_now
from tests.workers.fleet import fleet


def test_enqueue_and_wait_runs_every_accounts_pass_on_workers(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with fleet(database_url, redis_url, tmp_path, owners=3) as scene:
        waiting = scene.nudger_in_background("cycle", "--enqueue", "--wait")
        assert waiting.stdout is not None
        assert waiting.stdout.readline().strip() == "queued 3 passes"
        removed = scene.orgs[2].owner.email
        remove_account(scene.runtime, removed)
        assert scene.nudger("worker", "--ping").returncode == 1  # none yet: unhealthy
        scene.start_worker("a", concurrency=2).wait_ready()
        ping = scene.nudger("worker", "--ping")  # compose.yaml's health check of a worker
        assert ping.returncode == 0, ping.stderr
        assert ping.stdout.strip().endswith(": ok")

        output, _ = waiting.communicate(timeout=180)  # a guard against a hang, not a timing

        assert waiting.returncode == 0, output
        for org in scene.orgs[:2]:
            assert f"{org.owner.email}: " in output
        assert f"{removed}: skipped: account removed" in output
        assert "failed" not in output
        passes = scene.passes()
        assert set(passes) == {org.owner.email for org in scene.orgs[:2]}
        assert {status for status, _, _ in passes.values()} == {"ok"}
        assert all(queued is None for _, _, queued in passes.values())
        assert scene.sent_keys(), "the passes sent no email"
        assert max(scene.sent_keys().values()) == 1
        status = pass_status_now(scene.runtime)
        assert status.queue_depth == 0
        assert status.overview.failing == []
        assert status.overview.last_pass_at is not None
