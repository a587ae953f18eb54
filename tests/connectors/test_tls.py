"""The CA bundle nudger trusts: certifi's roots plus NUDGER_CA_BUNDLE, never a planted file.

Issue 11, item 3: the merged bundle used to live at ``/tmp/nudger-ca-<sha>.pem``, a
name anyone on the machine could compute and create first with a CA of their own.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from nudger.connectors.tls import ca_bundle_path, requests_session
from nudger.sandbox import certs
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(World()) as running:
        yield running


@pytest.fixture
def extra(sandbox: Sandbox, tmp_path: Path) -> Path:
    """The emulator's CA at a path of this test's own (bundles are kept per path)."""
    path = tmp_path / "extra-ca.pem"
    shutil.copy(sandbox.certs.ca_cert, path)
    return path


def genuine(extra: Path) -> bytes:
    return Path(certifi.where()).read_bytes() + b"\n" + extra.read_bytes()


@pytest.fixture
def planted(extra: Path, tmp_path: Path) -> Iterator[Path]:
    """An attacker's CA at the path the old code computed (and trusted if present)."""
    digest = hashlib.sha256(genuine(extra)).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"nudger-ca-{digest}.pem"
    path.write_bytes(certs.generate(tmp_path / "attacker").ca_cert.read_bytes())
    yield path
    path.unlink(missing_ok=True)


def test_a_planted_bundle_is_not_trusted(sandbox: Sandbox, extra: Path, planted: Path) -> None:
    path = ca_bundle_path(extra)
    assert path != str(planted)
    assert Path(path).read_bytes() == genuine(extra)
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    # Over real TLS: the emulator's certificate verifies against the genuine merge only.
    response = requests_session(extra).get(f"{sandbox.base_url}/_sandbox/nothing", timeout=10)
    assert response.status_code == 404


def test_each_process_writes_its_own_bundle_and_removes_it(extra: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from nudger.connectors.tls import ca_bundle_path;"
        "print(ca_bundle_path(Path(sys.argv[1])))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(extra)], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] != runs[1], "a name another user could predict"
    assert not any(Path(p).exists() for p in runs), "removed when the process exits"


def test_a_removed_bundle_is_written_again(extra: Path) -> None:
    """A temp-folder cleaner may delete it under a long-running process."""
    first = ca_bundle_path(extra)
    Path(first).unlink()
    again = ca_bundle_path(extra)
    assert Path(again).read_bytes() == genuine(extra)
