"""Running the emulator with a synthetic team, for people and for ``serve --sandbox``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from nudger.config import load_settings
from nudger.sandbox.orggen import GeneratedOrg, OrgSpec, generate_org
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World


def start_sandbox(
    *, seed: int = 7, now: datetime | None = None, port: int = 0, cert_dir: Path | None = None
) -> tuple[Sandbox, GeneratedOrg]:
    """A started emulator whose world holds one generated organisation."""
    world = World()
    org = generate_org(world, OrgSpec(seed=seed, now=now or datetime.now(UTC)))
    return Sandbox(world, port=port, cert_dir=cert_dir).start(), org


def run_foreground(console: Console, *, port: int, seed: int) -> None:
    cert_dir = load_settings().data_dir / "sandbox-certs"
    sandbox, org = start_sandbox(seed=seed, port=port, cert_dir=cert_dir)
    console.print(f"[bold]nudger sandbox[/bold] on {sandbox.base_url} ({org.event_count} events)")
    console.print(f"sandbox user: {org.owner.email} ({org.owner.provider})")
    console.print("Point nudger at it with:")
    for key, value in sandbox.settings().items():
        console.print(f"  export NUDGER_{key.upper()}={value}", soft_wrap=True, highlight=False)
    console.print("Ctrl-C stops it.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
