"""Status classification: one contact's features → a status, a cadence and human reasons.

Checks run in a fixed precedence (lapsed one-on-one, missing one-on-one, weak tie, new,
then cadence); the first that applies decides. Reasons are written for the user, who
must be able to see why nudger thinks what it thinks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from nudger.analysis.features import days_between
from nudger.analysis.judgement import Judgement, RoleCadence
from nudger.analysis.model import ContactFeatures, EndedRun, OneOnOne, Rupture, Status
from nudger.analysis.workdays import WorkCalendar

DIRECT_REPORT = "direct_report"


@dataclass(frozen=True)
class Verdict:
    status: Status
    cadence: float | None
    """The expected rhythm in the owner's working days."""
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Cadence:
    """How often the contact should be seen (working days), and where that comes from."""

    days: float
    explanation: str


def classify(
    features: ContactFeatures,
    role: str | None,
    cadence_override_days: int | None,
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
    who: str = "them",
) -> Verdict:
    """The contact's status, in the precedence of DESIGN.md's default judgement.

    A missed one-on-one that was not made up leads the reasons whatever the status.
    """
    verdict = _status(features, role, cadence_override_days, now, cal, judgement, roles)
    if features.rupture is None:
        return verdict
    first = repair_reason(features.rupture, who, cal)
    return Verdict(verdict.status, verdict.cadence, (first, *verdict.reasons))


def _status(
    features: ContactFeatures,
    role: str | None,
    cadence_override_days: int | None,
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> Verdict:
    cadence = expected_cadence(features, role, cadence_override_days, roles, cal)
    days = cadence.days if cadence else None
    lapsed = lapsed_reasons(features.one_on_one, now, judgement)
    if lapsed:
        return Verdict(Status.LAPSED_ONE_ON_ONE, days, lapsed)
    missing = missing_reasons(features, role, now, judgement, roles)
    if missing:
        return Verdict(Status.MISSING_ONE_ON_ONE, days, missing)
    if role is None:
        early = weak_tie_reasons(features, judgement) or new_reasons(features, now, judgement)
        if early:
            return Verdict(early[0], days, early[1])
    if cadence is None:
        return Verdict(Status.NEW, None, ("too little history yet to judge a rhythm",))
    return _by_cadence(features, cadence, now, cal, judgement)


def expected_cadence(
    features: ContactFeatures,
    role: str | None,
    override_days: int | None,
    roles: Mapping[str, RoleCadence],
    cal: WorkCalendar,
) -> Cadence | None:
    """The user's override, else the typical gap, clamped to the role's maximum.

    Overrides and role cadences are written in calendar days; they are compared and
    counted in working days (7 days = a working week).
    """
    if override_days is not None:
        return Cadence(
            cal.to_working_days(override_days), f"you asked for {every_days(override_days)}"
        )
    typical = features.typical_gap_days
    role_cadence = roles.get(role) if role else None
    if role_cadence is None:
        return (
            None if typical is None else Cadence(typical, f"usually {every_workday(typical, cal)}")
        )
    label = role_label(role or "")
    if typical is None:
        return Cadence(
            cal.to_working_days(role_cadence.ideal_days),
            f"{label}: ideally {every_days(role_cadence.ideal_days, approx=False)}",
        )
    longest = cal.to_working_days(role_cadence.max_days)
    if typical > longest:
        return Cadence(
            longest, f"{label}: at least {every_days(role_cadence.max_days, approx=False)}"
        )
    return Cadence(typical, f"usually {every_workday(typical, cal)}")


def repair_reason(rupture: Rupture, who: str, cal: WorkCalendar) -> str:
    """``your weekly one-on-one with Priya was cancelled on 2 Nov and not rebooked``."""
    meeting = f"your {describe_interval(rupture.interval_days)} one-on-one with {who}"
    on = short_date(cal.local_day(rupture.missed))
    if rupture.what == "declined":
        return f"{who} declined {meeting.replace(f' with {who}', '')} on {on}; not rebooked since"
    if rupture.what == "you declined":
        return f"you declined {meeting} on {on}; not rebooked since"
    if rupture.what == "stopped":
        return f"{meeting} was due on {on} and is no longer on the calendar"
    if rupture.what == "missing":
        return f"{meeting} did not take place on {on} and was not rebooked"
    return f"{meeting} was cancelled on {on} and not rebooked"


def ended_run_reasons(run: EndedRun, who: str, tz: tzinfo) -> tuple[str, ...]:
    """``your weekly one-on-one series with Priya: 14 meetings over 4 months``, then its
    dates. Only the run's rhythm, length and dates: never the meeting's title."""
    series = f"your {describe_interval(run.interval_days)} one-on-one series with {who}"
    return (f"{series}: {run.meetings} meetings over {run_span(run)}", run_dates(run, tz))


def run_span(run: EndedRun) -> str:
    """How long a run ran, first meeting to last: ``3 months``."""
    return span_words(days_between(run.first, run.last))


def run_dates(run: EndedRun, tz: tzinfo) -> str:
    """``the first on 26 Feb, the last on 27 May; nothing since``."""
    first, last = (short_date(moment.astimezone(tz).date()) for moment in (run.first, run.last))
    return f"the first on {first}, the last on {last}; nothing since"


def lapsed_reasons(
    one_on_one: OneOnOne | None, now: datetime, judgement: Judgement
) -> tuple[str, ...]:
    """Why a regular one-on-one has stopped happening; empty when it has not."""
    if one_on_one is None:
        return ()
    name = f"{describe_interval(one_on_one.interval_days)} one-on-one"
    reasons: list[str] = []
    if one_on_one.missed_streak >= judgement.lapsed_streak:
        reasons.append(
            f"{name}: last {one_on_one.missed_streak} occurrences {one_on_one.streak_kind}"
        )
    elif one_on_one.ended:
        reasons.append(f"{name} ended {weeks_ago(days_between(one_on_one.last_scheduled, now))}")
    if reasons and one_on_one.last_held is not None:
        reasons.append(f"last held {ago(days_between(one_on_one.last_held, now))}")
    return tuple(reasons)


def missing_reasons(
    features: ContactFeatures,
    role: str | None,
    now: datetime,
    judgement: Judgement,
    roles: Mapping[str, RoleCadence],
) -> tuple[str, ...]:
    """A direct report without a regular one-on-one (and none held lately)."""
    if role != DIRECT_REPORT or features.one_on_one is not None:
        return ()
    role_cadence = roles.get(DIRECT_REPORT)
    window = judgement.missing_window_max_factor * (role_cadence.max_days if role_cadence else 0)
    last = features.last_one_on_one
    if last is not None and days_between(last, now) <= window:
        return ()
    held = f"last one-on-one {ago(days_between(last, now))}" if last else "none on record"
    return ("direct report with no one-on-one", held)


def weak_tie_reasons(
    features: ContactFeatures, judgement: Judgement
) -> tuple[Status, tuple[str, ...]] | None:
    """Someone only ever met in large meetings, or too faintly to matter: never nudged."""
    if features.interactions == 0:
        return None
    if features.large_only:
        size = judgement.weights.medium_max_size
        return Status.WEAK_TIE, (f"only met in meetings of more than {size} people",)
    if features.strength < judgement.weak_tie_max_strength:
        return Status.WEAK_TIE, (
            f"too little contact to matter (strength {features.strength:.3f})",
        )
    return None


def new_reasons(
    features: ContactFeatures, now: datetime, judgement: Judgement
) -> tuple[Status, tuple[str, ...]] | None:
    """Too little, too recent history to judge."""
    first = features.first_interaction
    if first is None:
        what = "only upcoming meetings so far" if features.next_meeting else "no meetings yet"
        return Status.NEW, (what,)
    recent = days_between(first, now) <= judgement.new_days
    if recent and features.interactions < judgement.new_max_interactions:
        met = f"first met {ago(days_between(first, now))}"
        return Status.NEW, (met, f"{features.interactions} meeting(s) so far")
    return None


def _by_cadence(
    features: ContactFeatures,
    cadence: Cadence,
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
) -> Verdict:
    since = features.working_days_since_last
    recency = f"last met {workdays_ago(since)}" if since is not None else "no meeting on record"
    reasons = [f"{cadence.explanation}; {recency}"]
    status = _recency_status(since, cadence.days, judgement)
    booked = _booked_within(features.next_meeting, cadence.days, now, cal, judgement)
    if booked is not None:
        reasons.append(f"next meeting booked {in_days(booked)}")
        status = Status.HEALTHY
    return Verdict(status, cadence.days, tuple(reasons))


def _recency_status(since: float | None, cadence: float, judgement: Judgement) -> Status:
    """Against the cadence, floored so no gap under ``min_gap_working_days`` is a worry
    (someone met every day is not fading after a weekend, or a two-day gap)."""
    floor = judgement.min_gap_working_days / judgement.fading_factor
    rhythm = max(cadence, floor)
    if since is None or since > judgement.neglected_factor * rhythm:
        return Status.NEGLECTED
    if since > judgement.fading_factor * rhythm:
        return Status.FADING
    return Status.HEALTHY


def _booked_within(
    next_meeting: datetime | None,
    cadence: float,
    now: datetime,
    cal: WorkCalendar,
    judgement: Judgement,
) -> float | None:
    """Days until the next meeting when it falls within the cadence window, else None."""
    if next_meeting is None:
        return None
    within = cal.between(now, next_meeting) <= judgement.booked_within_cadences * cadence
    return days_between(now, next_meeting) if within else None


# --- wording -------------------------------------------------------------------------


def role_label(role: str) -> str:
    return role.replace("_", " ")


def describe_interval(days: float) -> str:
    if 6 <= days <= 8:
        return "weekly"
    if 13 <= days <= 15:
        return "fortnightly"
    if 27 <= days <= 32:
        return "monthly"
    return f"{days:.0f}-day"


def every_workday(days: float, cal: WorkCalendar) -> str:
    """A measured rhythm in working days, in words: ``every working day``, ``weekly``."""
    if round(days) <= 1:
        return "every working day"
    weeks = cal.to_calendar_days(days) / 7
    if 0.8 <= weeks < 1.25:
        return "weekly"
    if 1.75 <= weeks < 2.25:
        return "every two weeks"
    if days < 15:
        return f"every ~{days:.0f} working days"
    return f"every ~{weeks:.0f} weeks"


def workdays_ago(days: int) -> str:
    if days <= 0:
        return "today"
    return "1 working day ago" if days == 1 else f"{days} working days ago"


def short_date(day: date) -> str:
    """``2 Nov``."""
    return f"{day.day} {day:%b}"


def every_days(days: float, *, approx: bool = True) -> str:
    """``every ~9 days`` for measured rhythms, ``every 14 days`` for configured ones."""
    if round(days) <= 1:
        return "every day"
    return f"every {'~' if approx else ''}{days:.0f} days"


def ago(days: float) -> str:
    whole = round(days)
    if whole <= 0:
        return "today"
    return "1 day ago" if whole == 1 else f"{whole} days ago"


def in_days(days: float) -> str:
    whole = round(days)
    if whole <= 0:
        return "for today"
    return "in 1 day" if whole == 1 else f"in {whole} days"


def span_words(days: float) -> str:
    """How long something ran: ``10 weeks``, ``4 months``, ``1 year``."""
    if days < 60:
        weeks = max(round(days / 7), 1)
        return "1 week" if weeks == 1 else f"{weeks} weeks"
    months = round(days / 30.4)
    if months < 12:
        return f"{months} months"
    years = round(days / 365)
    return "1 year" if years == 1 else f"{years} years"


def weeks_ago(days: float) -> str:
    if days < 14:
        return ago(days)
    return f"{round(days / 7)} weeks ago"
