"""Graph's bare occurrences, completed from their series master within one delta round.

``calendarView/delta`` sends each plain occurrence of a recurring series bare: ``id``,
``seriesMasterId``, ``type``, ``start``, ``end`` and nothing else (microsoft-graph-docs
issues #7632 "Missing properties in the occurrences of recurring events" and #22197
"Delta docs aren't full"); attendees, organizer, ``showAs``, ``isCancelled``... are on the
series master. Exceptions come whole and need nothing. The master may come later in the
round (a later page), or not at all (a series that began before the window, or an
incremental round that only touched occurrences), so a bare occurrence waits here until
its master is known; the masters still missing at the end of the round are read once
each (``GET /me/events/{id}``) by the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nudger.connectors.base import CalendarEvent, SeriesMaster
from nudger.connectors.microsoft_payloads import Viewpoint, to_event

_MASTER_ONLY = ("recurrence", "transactionId", "originalStart")
"""Master properties an occurrence does not inherit."""


def is_master(item: dict[str, Any]) -> bool:
    return item.get("type") == "seriesMaster"


def is_bare(item: dict[str, Any]) -> bool:
    """A plain occurrence as delta sends it: without the details its master holds."""
    return item.get("type") == "occurrence" and "attendees" not in item


class SeriesRound:
    """The masters met so far in one round, and the bare occurrences waiting for theirs."""

    def __init__(self, owner: Callable[[], Viewpoint]) -> None:
        self._owner = owner
        """The owner's viewpoint, asked for only when a master or occurrence needs it: a
        round with nothing new never reads the mailbox's settings."""
        self._masters: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def master(self, item: dict[str, Any]) -> tuple[SeriesMaster, list[CalendarEvent]]:
        """Learn a master; the occurrences that were waiting for it, now complete."""
        master_id = str(item["id"])
        self._masters[master_id] = item
        template = to_event(item, self._owner(), None)
        ready = [self._fill(bare, item) for bare in self._waiting.pop(master_id, [])]
        return SeriesMaster(master_id, template), ready

    def occurrence(self, item: dict[str, Any]) -> CalendarEvent | None:
        """A bare occurrence completed from its master, or None while that is unknown."""
        master = self._masters.get(str(item.get("seriesMasterId")))
        if master is None:
            self._waiting[str(item.get("seriesMasterId"))].append(item)
            return None
        return self._fill(item, master)

    def missing(self) -> list[str]:
        """Masters some bare occurrence still waits for."""
        return sorted(self._waiting)

    def forget(self, master_id: str) -> int:
        """Drop the occurrences of a master that is gone; how many there were."""
        return len(self._waiting.pop(master_id, []))

    def _fill(self, bare: dict[str, Any], master: dict[str, Any]) -> CalendarEvent:
        inherited = {k: v for k, v in master.items() if k not in _MASTER_ONLY}
        merged = {**inherited, **bare, "type": "occurrence"}
        return replace(to_event(merged, self._owner(), None), follows_series=True)
