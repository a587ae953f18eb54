"""What moments need from the provider, read for key people only and kept on their
contact rows: the directory's hire date (work anniversaries), at most once a week per
person, and their latest long out-of-office in the last three weeks of free/busy
(welcome back), at most once a day.

Key people are the contacts with a role whose address is in the owner's own domain (the
tenant's directory knows only them). A failed read is recorded on the person's row
(``hire_date_error``) and the pass goes on; a throttled one stops this round's reads,
which the next pass resumes. Only a revoked grant is raised, as everywhere.

Absences come only from Microsoft: Graph ``getSchedule`` marks out-of-office time
(``oof``). Google ``freeBusy`` gives busy intervals only, which cannot tell a holiday
from a day of meetings, so on Google nothing is read and no welcome back is suggested.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import InstrumentedAttribute

from nudger.analysis.moments import latest_absence
from nudger.analysis.workdays import WEEK
from nudger.connectors.base import Connector, ContactSchedule, SyncWindow
from nudger.errors import AuthRevoked, ConnectorError, RateLimited
from nudger.passes.analyse import rules_in_force
from nudger.runtime import Runtime
from nudger.store import moments as moment_store
from nudger.store.db import session_scope
from nudger.store.models import Account, Contact

log = logging.getLogger(__name__)

HIRE_DATES_EVERY = timedelta(days=7)
"""Hire dates almost never change: one read a week per person is plenty."""
ABSENCES_EVERY = timedelta(days=1)
ABSENCES_LOOK_BACK = timedelta(days=21)
"""Long enough to see a two-week absence whole, and the return after it."""
OUT_OF_OFFICE_PROVIDERS = frozenset({"microsoft"})
"""Providers whose free/busy says out-of-office apart from busy (Graph ``oof``)."""


@dataclass(frozen=True)
class Read:
    """One person's read: what to store on their row, or why it failed."""

    email: str
    values: dict[str, object]
    error: str | None = None
    again: bool = False
    """Throttled: due again at the next pass, not a week later."""


def moments_step(runtime: Runtime, account_id: int, connector: Connector, now: datetime) -> int:
    """Read what is due; returns how many reads were stored."""
    return read_hire_dates(runtime, account_id, connector, now) + read_absences(
        runtime, account_id, connector, now
    )


def read_hire_dates(runtime: Runtime, account_id: int, connector: Connector, now: datetime) -> int:
    reader = connector.hire_dates
    if reader is None:
        return 0  # Google, or Microsoft without the opt-in scope: nothing is asked
    due = due_key_people(runtime, account_id, Contact.hire_date_read_at, HIRE_DATES_EVERY, now)
    reads = read_each(due, lambda email: {"hire_date": reader.hire_date(email)})
    store_reads(runtime, account_id, reads, "hire_date", now)
    return len(reads)


def read_absences(runtime: Runtime, account_id: int, connector: Connector, now: datetime) -> int:
    """Key people's latest long out-of-office, from one free/busy request for all of them;
    a successful read replaces what was known (an absence taken back is forgotten)."""
    reader = connector.schedules
    if reader is None or connector.provider not in OUT_OF_OFFICE_PROVIDERS:
        return 0
    due = due_key_people(runtime, account_id, Contact.schedule_read_at, ABSENCES_EVERY, now)
    if not due:
        return 0
    min_days = rules_in_force(runtime).judgement.welcome_back_min_working_days
    try:
        found = reader.schedules(due, SyncWindow(now - ABSENCES_LOOK_BACK, now))
    except AuthRevoked:
        raise
    except ConnectorError as exc:
        again = isinstance(exc, RateLimited)
        reads = [Read(email, {}, str(exc), again=again) for email in due]
    else:
        reads = [_absence_read(schedule, min_days) for schedule in found]
    store_reads(runtime, account_id, reads, "schedule", now)
    return len(reads)


def _absence_read(schedule: ContactSchedule, min_days: int) -> Read:
    if not schedule.available:
        return Read(schedule.email, {}, "the provider did not show their free/busy")
    hours = schedule.working_hours
    weekdays = frozenset(hours.days) if hours and hours.days else WEEK
    zone = ZoneInfo(schedule.time_zone or (hours.time_zone if hours else "UTC"))
    absence = latest_absence(schedule.busy, zone, weekdays, min_days)
    return Read(
        schedule.email,
        {
            "absence_start": absence.start if absence else None,
            "absence_end": absence.end if absence else None,
            "absence_days": absence.working_days if absence else None,
        },
    )


def due_key_people(
    runtime: Runtime,
    account_id: int,
    read_at: InstrumentedAttribute[datetime | None],
    every: timedelta,
    now: datetime,
) -> list[str]:
    """Key people in the owner's domain not read within ``every``."""
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, account_id)
        domains = own_domains(account)
        rows = moment_store.key_people(session, account_id, read_at)
    return [
        email
        for email, last in rows
        if email.rpartition("@")[2] in domains and (last is None or now - last >= every)
    ]


def own_domains(account: Account) -> frozenset[str]:
    addresses = [account.email, *account.aliases.split()]
    return frozenset(a.lower().rpartition("@")[2] for a in addresses if "@" in a)


def read_each(emails: Sequence[str], read: Callable[[str], dict[str, object]]) -> list[Read]:
    """One read per person; errors recorded, throttling ends the round."""
    done = []
    for email in emails:
        try:
            done.append(Read(email, read(email)))
        except AuthRevoked:
            raise
        except RateLimited as exc:
            log.info("moments: throttled after %d reads; the next pass goes on", len(done))
            done.append(Read(email, {}, str(exc), again=True))
            break
        except ConnectorError as exc:
            done.append(Read(email, {}, str(exc)))
    return done


def store_reads(
    runtime: Runtime, account_id: int, reads: Sequence[Read], what: str, now: datetime
) -> None:
    """Each read on its row: the values, the time (``{what}_read_at``, not when throttled)
    and the error (``{what}_error``, None when it worked); a failure keeps what was read
    before."""
    with session_scope(runtime.db) as session:
        by_email = moment_store.rows_by_email(session, account_id, [r.email for r in reads])
        for read in reads:
            row = by_email.get(read.email)
            if row is None:
                continue  # the contact was removed meanwhile
            for key, value in read.values.items():
                setattr(row, key, value)
            if not read.again:
                setattr(row, f"{what}_read_at", now)
            setattr(row, f"{what}_error", read.error)
