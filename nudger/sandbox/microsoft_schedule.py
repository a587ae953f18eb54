"""``POST /me/calendar/getSchedule``: free/busy and working hours of people in the tenant.

Schedules are the world's Microsoft mailboxes of the asker's own tenant (anyone else, an
unknown user, another tenant's or an external address, gets the per-schedule error Graph
gives for an unknown user: free/busy does not cross tenants without federation). At most
20 schedules per request. ``availabilityView`` has one digit per interval: 0 free,
1 tentative, 2 busy, 3 oof, 4 workingElsewhere; the strongest status wins. Items are
rendered in the ``Prefer: outlook.timezone`` zone (default UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nudger.sandbox.microsoft_common import (
    date_time_time_zone,
    invalid_request,
    parse_date_time_time_zone,
)
from nudger.sandbox.microsoft_events import View, show_as
from nudger.sandbox.world import Mailbox, SandboxEvent, World

MAX_SCHEDULES = 20
"""Graph reads at most 20 mailboxes in one request."""
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AVAILABILITY_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3"}
AVAILABILITY_DIGIT["workingElsewhere"] = "4"
_STRENGTH = ["free", "tentative", "workingElsewhere", "busy", "oof"]


def working_hours(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "daysOfWeek": [DAY_NAMES[day - 1] for day in mailbox.working_days],
        "startTime": mailbox.work_start.strftime("%H:%M:%S.0000000"),
        "endTime": mailbox.work_end.strftime("%H:%M:%S.0000000"),
        "timeZone": {"name": mailbox.windows_time_zone},
    }


def schedule_response(
    world: World, body: dict[str, Any], view: View, asker: Mailbox
) -> dict[str, Any]:
    schedules = body.get("schedules")
    if not isinstance(schedules, list) or not schedules:
        raise invalid_request("Required property 'schedules' is missing.", "ErrorInvalidParameter")
    if len(schedules) > MAX_SCHEDULES:
        message = f"At most {MAX_SCHEDULES} schedules can be requested at once."
        raise invalid_request(message, "ErrorInvalidParameter")
    start = parse_date_time_time_zone(body.get("startTime"), "startTime")
    end = parse_date_time_time_zone(body.get("endTime"), "endTime")
    interval = _interval(body.get("availabilityViewInterval", 30))
    if end <= start:
        raise invalid_request("The end time must be after the start time.", "ErrorInvalidParameter")
    with world.lock:
        value = [_schedule(world, str(s), start, end, interval, view, asker) for s in schedules]
    return {"value": value}


def _interval(value: Any) -> int:
    if not isinstance(value, int) or not 5 <= value <= 1440:
        message = "availabilityViewInterval must be between 5 and 1440 minutes."
        raise invalid_request(message, "ErrorInvalidParameter")
    return value


def _schedule(
    world: World,
    address: str,
    start: datetime,
    end: datetime,
    interval: int,
    view: View,
    asker: Mailbox,
) -> dict[str, Any]:
    mailbox = world.mailboxes.get(address.lower())
    if mailbox is None or mailbox.provider != "microsoft" or mailbox.tenant != asker.tenant:
        error = {
            "message": f"The requested user '{address}' is invalid.",
            "responseCode": "ErrorInvalidUser",
        }
        return {"scheduleId": address, "error": error}
    blocking = [
        (event, show_as(event, mailbox))
        for event in world.live_events(mailbox)
        if not event.cancelled and event.start < end and event.end > start
    ]
    blocking = [(event, status) for event, status in blocking if status != "free"]
    return {
        "scheduleId": address,
        "availabilityView": _availability(blocking, start, end, interval),
        "scheduleItems": [_item(event, status, view) for event, status in blocking],
        "workingHours": working_hours(mailbox),
    }


def _availability(
    blocking: list[tuple[SandboxEvent, str]], start: datetime, end: datetime, interval: int
) -> str:
    step = timedelta(minutes=interval)
    digits = []
    slot = start
    while slot < end:
        statuses = [s for e, s in blocking if e.start < slot + step and e.end > slot]
        strongest = max(statuses, key=_STRENGTH.index, default="free")
        digits.append(AVAILABILITY_DIGIT[strongest])
        slot += step
    return "".join(digits)


def _item(event: SandboxEvent, status: str, view: View) -> dict[str, Any]:
    return {
        "isPrivate": False,
        "status": status,
        "subject": event.summary,
        "location": "",
        "isMeeting": bool(event.attendees),
        "isRecurring": event.series_id is not None,
        "isException": False,
        "isReminderSet": False,
        "start": date_time_time_zone(event.start, view.zone, view.zone_name),
        "end": date_time_time_zone(event.end, view.zone, view.zone_name),
    }
