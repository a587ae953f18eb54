"""Passes on real ``nudger worker`` processes over the local Redis (no eager mode):
``nudger cycle --enqueue --wait`` runs every account's pass and prints each report.
"""

from __future__ import annotations

from pathlib import Path

from nudger.workers.status import pass_status_now
from tests.workers.fleet import fleet


def test_enqueue_and_wait_runs_every_accounts_pass_on_workers(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with fleet(database_url, redis_url, tmp_path, owners=2) as scene:
        scene.start_worker("a", concurrency=2).wait_ready()

        result = scene.nudger("cycle", "--enqueue", "--wait")

        assert result.returncode == 0, result.stdout + result.stderr
        assert "queued 2 passes" in result.stdout
        for org in scene.orgs:
            assert f"{org.owner.email}: " in result.stdout
        assert "failed" not in result.stdout
        passes = scene.passes()
        assert {status for status, _, _ in passes.values()} == {"ok"}
        assert all(queued is None for _, _, queued in passes.values())
        assert scene.sent_keys(), "the passes sent no email"
        assert max(scene.sent_keys().values()) == 1
        status = pass_status_now(scene.runtime)
        assert status.queue_depth == 0
        assert status.overview.failing == []
        assert status.overview.last_pass_at is not None
