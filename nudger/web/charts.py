"""The dashboard's two pictures, laid out on the server for inline SVG (no script).

Marks are placed in percentages of the chart's width and in pixels downwards, so a
chart fills a phone or a laptop and its text keeps its size (a viewBox would shrink it
on a phone). Colours come from the stylesheet through each mark's status class: the
Content Security Policy allows no inline style. ``templates/web/charts.html`` draws
what is laid out here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import Status
from nudger.analysis.status import workdays_ago
from nudger.analysis.trend import TrendPoint
from nudger.wording import display_name, status_words

URGENT = (Status.LAPSED_ONE_ON_ONE, Status.MISSING_ONE_ON_ONE, Status.NEGLECTED, Status.FADING)
"""Statuses the dashboard keeps open; the rhythm chart shows everyone in them."""
TREND_STATUSES = (Status.HEALTHY, Status.FADING, Status.NEGLECTED, Status.LAPSED_ONE_ON_ONE)
SCALE_CAP = 65
"""The rhythm chart's axis ends at a quarter's working days at most: a contact unseen
for a year would otherwise squash every other bar into a sliver (its bar is clipped,
its label says the true number)."""
NAME_CHARS = 28
ROW_HEIGHT = 34
NAME_LINE = 14
BAR_TOP = 20
BAR_HEIGHT = 9
TREND_TOP = 22
TREND_PLOT = 120
TREND_HEIGHT = TREND_TOP + TREND_PLOT + 24
TREND_MARGIN = 3.0
"""Percent of the width kept clear at either end, so the end points show whole."""


@dataclass(frozen=True)
class RhythmRow:
    """One person: working days since you last met (the bar) against their usual gap
    (the tick)."""

    name: str
    email: str
    status: Status
    since: int | None
    usual: float | None
    top: int
    bar: float
    """The bar's width, percent of the chart's."""
    tick: float | None
    clipped: bool

    @property
    def label(self) -> str:
        since = "never met" if self.since is None else plural(self.since, "day")
        return since if self.usual is None else f"{since} · usual {self.usual:.0f}"

    @property
    def title(self) -> str:
        met = "never met" if self.since is None else f"last met {workdays_ago(self.since)}"
        usual = "" if self.usual is None else f"; usually every {self.usual:.0f} working days"
        return f"{self.name} ({status_words(self.status)}): {met}{usual}"


@dataclass(frozen=True)
class RhythmChart:
    rows: tuple[RhythmRow, ...]
    scale: int
    """Working days at the right edge."""

    @property
    def height(self) -> int:
        return len(self.rows) * ROW_HEIGHT

    @property
    def legend(self) -> list[tuple[Status, str]]:
        """The statuses shown, most urgent first."""
        return [(s, "") for s in sorted({r.status for r in self.rows}, key=lambda s: s.severity)]

    @property
    def description(self) -> str:
        late = sum(1 for r in self.rows if r.usual is not None and (r.since or 0) > r.usual)
        people = "person" if len(self.rows) == 1 else "people"
        return (
            f"Working days since you last met each of {len(self.rows)} key {people}, "
            f"against their usual gap; {late} past it"
        )


def plural(count: int, thing: str) -> str:
    return f"{count} {thing}" if count == 1 else f"{count} {thing}s"


def rhythm_chart(healths: Sequence[ContactHealth]) -> RhythmChart:
    """Everyone in an urgent status, and the healthy people you gave a role."""
    shown = [h for h in healths if h.status in URGENT or (h.role and h.status == Status.HEALTHY)]
    spans = [v for h in shown for v in (_since(h), h.cadence_working_days) if v is not None]
    scale = max(10, min(SCALE_CAP, round(max(spans, default=0))))
    return RhythmChart(tuple(_row(h, i * ROW_HEIGHT, scale) for i, h in enumerate(shown)), scale)


def _since(health: ContactHealth) -> int | None:
    return health.features.working_days_since_last


def _row(health: ContactHealth, top: int, scale: int) -> RhythmRow:
    since, usual = _since(health), health.cadence_working_days
    name = display_name(health.name, health.email)
    return RhythmRow(
        name=name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…",
        email=health.email,
        status=health.status,
        since=since,
        usual=usual,
        top=top,
        bar=_percent(since or 0, scale),
        tick=None if usual is None else _percent(usual, scale),
        clipped=since is not None and since > scale,
    )


def _percent(days: float, scale: int) -> float:
    return round(100 * min(days, scale) / scale, 2)


@dataclass(frozen=True)
class TrendMark:
    at: datetime
    x: float
    """Percent of the width."""
    y: float
    count: int
    when: str
    """``week to Sun 1 Mar`` or ``today``."""


@dataclass(frozen=True)
class TrendSeries:
    status: Status
    marks: tuple[TrendMark, ...]

    @property
    def segments(self) -> list[tuple[TrendMark, TrendMark]]:
        return list(pairwise(self.marks))

    @property
    def change(self) -> str:
        """``26 → 15``."""
        return f"{self.marks[0].count} → {self.marks[-1].count}"


@dataclass(frozen=True)
class TrendChart:
    series: tuple[TrendSeries, ...]
    top_count: int
    """The count at the top gridline."""

    height = TREND_HEIGHT
    plot_top = TREND_TOP
    plot_bottom = TREND_TOP + TREND_PLOT

    @property
    def first(self) -> TrendMark:
        return self.series[0].marks[0]

    @property
    def last(self) -> TrendMark:
        return self.series[0].marks[-1]

    @property
    def legend(self) -> list[tuple[Status, str]]:
        """Each line's status and its change: ``(healthy, "26 → 15")``."""
        return [(s.status, s.change) for s in self.series]

    @property
    def description(self) -> str:
        changes = ", ".join(f"{status_words(s.status)} {s.change}" for s in self.series)
        return f"People by status, {self.first.when} to {self.last.when}: {changes}"


def trend_chart(points: Sequence[TrendPoint], time_zone: str) -> TrendChart | None:
    """Lines of the counts in ``TREND_STATUSES`` over ``points`` (the last is today);
    None with fewer than two points."""
    if len(points) < 2:
        return None
    top = max(4, *(p.count(s) for p in points for s in TREND_STATUSES))
    step = (100 - 2 * TREND_MARGIN) / (len(points) - 1)
    whens = [_when(p.at, time_zone) for p in points[:-1]] + ["today"]

    def mark(i: int, status: Status) -> TrendMark:
        count = points[i].count(status)
        y = TREND_TOP + TREND_PLOT * (1 - count / top)
        x = round(TREND_MARGIN + i * step, 2)
        return TrendMark(points[i].at, x, round(y, 1), count, whens[i])

    return TrendChart(
        tuple(
            TrendSeries(s, tuple(mark(i, s) for i in range(len(points)))) for s in TREND_STATUSES
        ),
        top,
    )


def _when(week_end: datetime, time_zone: str) -> str:
    """The week a week-end closes, by its last day: ``week to Sun 1 Mar``."""
    sunday = (week_end - timedelta(seconds=1)).astimezone(ZoneInfo(time_zone))
    return f"week to {sunday:%a} {sunday.day} {sunday:%b}"
