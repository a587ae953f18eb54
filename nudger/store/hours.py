"""Working hours as stored: one JSON shape, one codec.

``{"days": [1..7], "start": "HH:MM", "end": "HH:MM"}`` (ISO weekdays, Monday=1), plus
``"time_zone"`` when the hours carry a zone of their own: the provider's, kept in
``Account.working_hours``. The user's own choice, in ``Account.settings``, has no zone:
it follows whatever zone the user lives by (``preferences.time_zone_of``).
A damaged value reads as None, so the next source (provider, then Monday to Friday)
applies instead of the account failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from nudger.connectors.base import WorkingHours


@dataclass(frozen=True)
class HoursPref:
    """Working hours the user chose: days and times, in their own zone."""

    days: tuple[int, ...]
    start: time
    end: time


def hours_json(hours: HoursPref | WorkingHours) -> dict[str, Any]:
    data: dict[str, Any] = {
        "days": list(hours.days),
        "start": hours.start.isoformat(timespec="minutes"),
        "end": hours.end.isoformat(timespec="minutes"),
    }
    if isinstance(hours, WorkingHours):
        data["time_zone"] = hours.time_zone
    return data


def read_hours(data: object) -> HoursPref | None:
    """The days and times stored; None when absent or damaged."""
    if not isinstance(data, dict):
        return None
    try:
        return HoursPref(
            tuple(int(d) for d in data["days"]),
            time.fromisoformat(data["start"]),
            time.fromisoformat(data["end"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def read_working_hours(data: object) -> WorkingHours | None:
    """The provider's hours with their zone; None when absent or damaged."""
    hours = read_hours(data)
    zone = data.get("time_zone") if isinstance(data, dict) else None
    if hours is None or not isinstance(zone, str):
        return None
    return WorkingHours(time_zone=zone, days=hours.days, start=hours.start, end=hours.end)
