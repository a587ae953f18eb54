"""The fleet benchmark's emulator: many light mailboxes in one ``World``, in a child process.

The child generates one synthetic organisation per mailbox (``nudger.sandbox.orggen``,
alternately Google and Microsoft, each with its own seed), serves them all from one
``Sandbox`` and answers the parent over a pipe: its own CPU time (so the benchmark can say
how much of the machine the emulator took), what it has recorded (requests, sent mail,
holds, counted per idempotency key) and one change per mailbox on request (a ruptured
one-on-one, so a pass has something to send).
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.connection import Connection

from nudger.sandbox.microsoft_common import GRAPH_PREFIX
from nudger.sandbox.orggen import OrgSpec, generate_org
from nudger.sandbox.server import MICROSOFT_TENANT, Sandbox
from nudger.sandbox.world import Mailbox, SandboxEvent, World

KEY_HEADER = re.compile(rb"^X-Nudger-Key: *(\S+)", re.MULTILINE)
"""The outbox key every nudge email carries (``nudger.delivery.email``)."""
GOOGLE_OAUTH_PATHS = ("/o/oauth2/", "/token", "/revoke")
"""Google's sign-in, token and revoke endpoints on the emulator (``Sandbox.settings``)."""


@dataclass(frozen=True)
class FleetSpec:
    mailboxes: int
    now: datetime
    people: int
    events_per_week: int
    months: int


@dataclass(frozen=True)
class Served:
    settings: dict[str, str]
    """``Settings`` keyword arguments pointing nudger at the emulator."""
    owners: tuple[tuple[str, str], ...]
    """(provider, address) of every mailbox, in order."""
    events: int
    seconds: float
    """How long generating the organisations took."""


@dataclass(frozen=True)
class Recorded:
    cpu_seconds: float
    """The emulator process's CPU time so far (all threads)."""
    requests: int
    by_api: dict[str, int]
    """Requests by API: ``google``, ``graph``, ``google-oauth``, ``microsoft-oauth``."""
    emails: int
    holds: int
    duplicate_emails: int
    """Emails beyond the first carrying the same outbox key."""
    duplicate_holds: int
    """Live holds beyond the first with the same idempotency key in one mailbox (Google:
    the event id, Graph: the ``transactionId``, both derived from the outbox key)."""


def owner_address(index: int) -> str:
    return f"owner{index:05d}@northwind.example"


def _generate(
    world: World, spec: FleetSpec
) -> tuple[tuple[tuple[str, str], ...], int, dict[str, str]]:
    owners: list[tuple[str, str]] = []
    events, healthy = 0, {}
    for index in range(spec.mailboxes):
        provider = ("google", "microsoft")[index % 2]
        org_spec = OrgSpec(
            now=spec.now,
            seed=index,
            owner_email=owner_address(index),
            owner_name=f"Owner {index}",
            provider=provider,
            people=spec.people,
            events_per_week=spec.events_per_week,
            months=spec.months,
        )
        org = generate_org(world, org_spec)
        owners.append((provider, org.owner.email))
        events += org.event_count
        healthy[org.owner.email] = next(
            e.email for e in org.expectations if e.pattern == "dr-healthy"
        )
    return tuple(owners), events, healthy


class _Tally:
    """Requests by API, counted as they come: only the records since the last count."""

    def __init__(self) -> None:
        self.by_api: Counter[str] = Counter()
        self.counted = 0

    def count(self, world: World) -> dict[str, int]:
        with world.lock:
            paths = [record.path for record in world.requests[self.counted :]]
        self.by_api.update(_api(path) for path in paths)
        self.counted += len(paths)
        return dict(self.by_api)


def _recorded(world: World, tally: _Tally) -> Recorded:
    with world.lock:
        raws = [sent.raw for sent in world.sent]
        holds = [_hold_key(box, e) for box in world.mailboxes.values() for e in _holds(box)]
    by_api = tally.count(world)
    emails = Counter(_outbox_key(raw) for raw in raws)
    by_key = Counter(holds)
    return Recorded(
        cpu_seconds=time.process_time(),
        requests=sum(by_api.values()),
        by_api=by_api,
        emails=len(raws),
        holds=len(holds),
        duplicate_emails=sum(n - 1 for n in emails.values()),
        duplicate_holds=sum(n - 1 for n in by_key.values()),
    )


def _api(path: str) -> str:
    if path.startswith(GRAPH_PREFIX):
        return "graph"
    if path.startswith(f"/{MICROSOFT_TENANT}/"):
        return "microsoft-oauth"
    if path.startswith(GOOGLE_OAUTH_PATHS):
        return "google-oauth"
    return "google"


def _outbox_key(raw: bytes) -> bytes:
    found = KEY_HEADER.search(raw)
    return found.group(1) if found else raw  # no key: the message counts as itself


def _holds(mailbox: Mailbox) -> list[SandboxEvent]:
    return [e for e in mailbox.events.values() if e.private_props and not e.deleted]


def _hold_key(mailbox: Mailbox, event: SandboxEvent) -> tuple[str, str]:
    return mailbox.email, event.transaction_id or event.id


def _rupture(world: World, owner: str, contact: str, now: datetime) -> int:
    """Cancel the owner's last two one-on-ones with ``contact`` (a weekly series, held
    until now): fewer than the three that make it lapsed, so the next pass has a repair
    email to send (rule ``repair_one_on_one``)."""
    mailbox = world.mailbox(owner)
    held = [
        e
        for e in world.live_events(mailbox)
        if e.start < now and not e.cancelled and _one_on_one_with(e, contact)
    ]
    for event in held[-2:]:
        world.put_event(mailbox, replace(event, cancelled=True))
    return len(held[-2:])


def _one_on_one_with(event: SandboxEvent, contact: str) -> bool:
    people = [a.email for a in event.attendees if not a.resource]
    return len(people) == 2 and contact in people


def _serve(spec: FleetSpec, conn: Connection) -> None:
    """Child process: generate, serve, answer the parent until told to stop."""
    world = World()
    started = time.perf_counter()
    owners, events, healthy = _generate(world, spec)
    seconds = time.perf_counter() - started
    with Sandbox(world) as sandbox:
        conn.send(Served(sandbox.settings(), owners, events, seconds))
        tally = _Tally()
        while (command := conn.recv()) != "stop":
            if command == "recorded":
                conn.send(_recorded(world, tally))
            elif command == "rupture":
                now = datetime.now(spec.now.tzinfo)
                conn.send(sum(_rupture(world, o, c, now) for o, c in healthy.items()))
            else:
                conn.send(f"unknown command {command!r}")


class FleetEmulator:
    """The sandbox with ``spec.mailboxes`` mailboxes, in a spawned process."""

    def __init__(self, spec: FleetSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(spec, child), daemon=True)
        self._process.start()
        self.served: Served = self._conn.recv()

    def recorded(self) -> Recorded:
        self._conn.send("recorded")
        recorded: Recorded = self._conn.recv()
        return recorded

    def rupture(self) -> int:
        """Cancel each owner's recent one-on-ones with one direct report; the count."""
        self._conn.send("rupture")
        count: int = self._conn.recv()
        return count

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=15)
