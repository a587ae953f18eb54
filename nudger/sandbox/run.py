"""Running the emulator with a synthetic team, for people and for ``serve --sandbox``."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from nudger.config import load_settings
from nudger.sandbox.orggen import GeneratedOrg, OrgSpec, generate_org, plant_moments
from nudger.sandbox.server import Sandbox
from nudger.sandbox.world import World

GOOGLE_OWNER = OrgSpec(now=datetime.now(UTC))
"""The first sandbox user: Alex Morgan on Google Workspace (``OrgSpec``'s defaults)."""
MICROSOFT_OWNER = replace(
    GOOGLE_OWNER,
    owner_email="sam.rivera@northwind.example",
    owner_name="Sam Rivera",
    provider="microsoft",
    time_zone="Europe/Berlin",
)
"""The second sandbox user: Outlook on Microsoft 365, whose org chart comes from Graph."""
PEOPLE = (
    GOOGLE_OWNER,
    MICROSOFT_OWNER,
    replace(
        GOOGLE_OWNER,
        owner_email="priya.shah@northwind.example",
        owner_name="Priya Shah",
        time_zone="America/New_York",
    ),
    replace(
        MICROSOFT_OWNER,
        owner_email="jonas.berg@northwind.example",
        owner_name="Jonas Berg",
        time_zone="Europe/Stockholm",
    ),
)
"""Who can sign in where people click through the sandbox: two users per provider, so
the sign-in page always has somebody else to choose. Each owner's team is generated
with the seed after the previous one's."""


def start_sandbox(
    *, seed: int = 7, now: datetime | None = None, port: int = 0, cert_dir: Path | None = None
) -> tuple[Sandbox, GeneratedOrg]:
    """A started emulator whose world holds one generated organisation."""
    world = World()
    org = generate_org(world, replace(GOOGLE_OWNER, seed=seed, now=now or datetime.now(UTC)))
    return Sandbox(world, port=port, cert_dir=cert_dir).start(), org


def start_people_sandbox(
    *, seed: int = 7, now: datetime | None = None, port: int = 0, cert_dir: Path | None = None
) -> tuple[Sandbox, list[GeneratedOrg]]:
    """The emulator as people click through it: every user of ``PEOPLE`` with a team of
    their own, and the sign-in page (on plain-HTTP loopback) at every authorize."""
    world = World()
    moment = now or datetime.now(UTC)
    orgs = [
        generate_org(world, replace(spec, seed=seed + number, now=moment))
        for number, spec in enumerate(PEOPLE)
    ]
    for org in orgs:  # a work anniversary and a welcome back, as in the demo
        if org.owner.provider == "microsoft":
            plant_moments(world, org, moment)
    return Sandbox(world, port=port, cert_dir=cert_dir, sign_in_page=True).start(), orgs


def first_users(orgs: list[GeneratedOrg]) -> dict[str, str]:
    """Provider → the address its sign-in preselects (the first of its users)."""
    hints: dict[str, str] = {}
    for org in orgs:
        hints.setdefault(org.owner.provider, org.owner.email)
    return hints


def run_foreground(console: Console, *, port: int, seed: int) -> None:
    cert_dir = load_settings().data_dir / "sandbox-certs"
    sandbox, orgs = start_people_sandbox(seed=seed, port=port, cert_dir=cert_dir)
    console.print(f"[bold]nudger sandbox[/bold] on {sandbox.base_url}")
    console.print(f"sign-in pages on {sandbox.sign_in_url}")
    for org in orgs:
        owner = org.owner
        console.print(f"sandbox user: {owner.email} ({owner.provider}, {org.event_count} events)")
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
