"""The daily step's small steps: which one fits a person, and why.

A small table read in order: the first kind whose test the person's features pass is
the step. A thank-you after a long run of meetings (a series that ended, or many
meetings lately), a question for a mentor or a manager, a question for a direct
report, else a two-line check-in. Each step is at most two lines, and names its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from nudger.analysis.audit import ContactHealth
from nudger.analysis.status import ended_run_reasons
from nudger.wording import role_words

BUSY_RUN_MEETINGS = 6
"""Met at least this often in the last 30 days..."""
BUSY_RUN_SURGE = 1.5
"""...and this many times the usual month (the last 90 days' average): a run of meetings
that stands out, say a project, so a thank-you for the time is the step. A daily
stand-up is no run: it is the usual month."""


@dataclass(frozen=True)
class Step:
    """One small step: its kind, the step itself (two lines at most), and why this one."""

    kind: str
    text: str
    reason: str


@dataclass(frozen=True)
class StepKind:
    kind: str
    fits: Callable[[ContactHealth], bool]
    text: str
    """The step; ``{first}`` is the person's first name."""


def _ended_run(h: ContactHealth) -> bool:
    return h.ended_run is not None


def _busy_run(h: ContactHealth) -> bool:
    recent, usual = h.features.interactions_30d, _usual_month(h)
    return recent >= BUSY_RUN_MEETINGS and recent >= BUSY_RUN_SURGE * usual


def _usual_month(h: ContactHealth) -> float:
    return h.features.interactions_90d / 3


def _role(*roles: str) -> Callable[[ContactHealth], bool]:
    return lambda h: h.role in roles


STEP_KINDS = (
    StepKind(
        "thank_you",
        _ended_run,
        "Send {first} two lines of thanks: for the series you had together, "
        "and one thing that came out of it.",
    ),
    StepKind(
        "thank_you",
        _busy_run,
        "Send {first} two lines of thanks for the time they gave you lately, "
        "and one thing it made possible.",
    ),
    StepKind(
        "question",
        _role("mentor"),
        "Ask {first} one question you are chewing on, in two lines: "
        "mentors like to be asked, and it keeps the thread alive.",
    ),
    StepKind(
        "question",
        _role("manager"),
        "Ask {first} one short question: what matters most to them this week, "
        "and whether anything of yours should move.",
    ),
    StepKind(
        "question",
        _role("direct_report"),
        "Ask {first} in two lines what one thing would make their week easier.",
    ),
    StepKind(
        "check_in",
        lambda h: True,
        "Send {first} a two-line check-in: how are things on their side, "
        "and one thing you are working on.",
    ),
)


def step_for(health: ContactHealth, tz: tzinfo) -> Step:
    """The first step kind that fits the person, in their words, with its reason."""
    kind = next(k for k in STEP_KINDS if k.fits(health))
    who = health.name or health.email
    first = who.split()[0] if health.name else who
    return Step(kind.kind, kind.text.format(first=first), _reason(kind, health, who, tz))


def _reason(kind: StepKind, health: ContactHealth, who: str, tz: tzinfo) -> str:
    if kind.fits is _ended_run and health.ended_run is not None:
        return ended_run_reasons(health.ended_run, who, tz)[0]
    if kind.fits is _busy_run:
        recent, usual = health.features.interactions_30d, round(_usual_month(health))
        return f"{recent} meetings with {who} in the last 30 days, against about {usual} a month"
    if health.role:
        role = (
            "one of your key people" if health.role == "key" else f"your {role_words(health.role)}"
        )
        return f"{who} is {role}: a small step keeps the relationship warm"
    return f"{who} is one of your strongest collaborators"
