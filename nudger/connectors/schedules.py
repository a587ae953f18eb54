"""What both providers' schedule readers share: who may be asked, in what batches, over what
windows, and how the answers for one address over several windows become one schedule.

Only people of the owner's own organisation are asked (same mail domain as the owner):
an external address is never sent to the provider, and comes back ``available=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta

from nudger.connectors.base import ContactSchedule, SyncWindow

MAX_WINDOW = timedelta(days=62)
"""The longest window asked at once; longer ones are asked in parts."""

AskBatch = Callable[[Sequence[str], SyncWindow], dict[str, ContactSchedule]]
"""Asks the provider about one batch of internal addresses over one window."""


def domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def internal(emails: Sequence[str], owner: str) -> list[str]:
    """The distinct addresses of ``emails`` in the owner's domain, lower-cased, in order."""
    own = domain(owner)
    seen = dict.fromkeys(e.lower() for e in emails if domain(e) == own and e.lower() != owner)
    return list(seen)


def batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def parts(window: SyncWindow, longest: timedelta = MAX_WINDOW) -> Iterator[SyncWindow]:
    start = window.start
    while start < window.end:
        end = min(start + longest, window.end)
        yield SyncWindow(start, end)
        start = end


def read_schedules(
    emails: Sequence[str], window: SyncWindow, owner: str, batch_size: int, ask: AskBatch
) -> list[ContactSchedule]:
    """One schedule per address of ``emails``, in order, asking only internal people."""
    asked = internal(emails, owner)
    found: dict[str, ContactSchedule] = {}
    for part in parts(window):
        for batch in batches(asked, batch_size):
            for address, schedule in ask(batch, part).items():
                found[address] = merge(found.get(address), schedule)
    return [found.get(e.lower()) or ContactSchedule(e.lower(), available=False) for e in emails]


def merge(earlier: ContactSchedule | None, later: ContactSchedule) -> ContactSchedule:
    """One address's answers over consecutive windows: busy time adds up; a refusal in any
    part makes the whole unavailable (a partial picture would pass for free time)."""
    if earlier is None:
        return later
    return replace(
        earlier,
        busy=earlier.busy + later.busy,
        working_hours=earlier.working_hours or later.working_hours,
        time_zone=earlier.time_zone or later.time_zone,
        available=earlier.available and later.available,
    )
