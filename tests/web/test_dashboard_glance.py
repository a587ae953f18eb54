"""The dashboard of the generated team after one pass: groups, strength and the charts.

One costly setup (the team's year of events, a sign-up, a pass) that the tests below
only read. The charts are checked for their data: each mark against a fresh audit.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from nudger import accounts, contacts
from nudger.analysis.audit import ContactHealth, audit
from nudger.analysis.model import Status
from nudger.analysis.status import workdays_ago
from nudger.analysis.trend import as_it_stood, status_counts, week_ends
from nudger.config import load_settings
from nudger.cycle import run_cycle
from nudger.passes.analyse import account_audit, owner_of, rules_in_force
from nudger.runtime import Runtime, open_runtime
from nudger.sandbox.orggen import GeneratedOrg
from nudger.sandbox.run import start_sandbox
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.web.app import create_app
from nudger.wording import display_name
from tests.conftest import isolate
from tests.web.conftest import NOW, sign_up

SVG = "{http://www.w3.org/2000/svg}"
URGENT = {"lapsed_one_on_one", "missing_one_on_one", "neglected", "fading"}
ROLES = ("direct_report", "manager", "mentor")


@dataclass(frozen=True)
class Board:
    html: str
    runtime: Runtime
    org: GeneratedOrg
    healths: list[ContactHealth]


@pytest.fixture(scope="module")
def board(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("glance"))
        sandbox, org = start_sandbox(now=NOW)
        settings = load_settings(
            **sandbox.settings(),
            database_url=module_database_url,
            encryption_keys=Fernet.generate_key().decode(),
            base_url="http://testserver",
        )
        runtime = open_runtime(settings)
        with TestClient(create_app(runtime, clock=lambda: NOW), follow_redirects=False) as web:
            sign_up(web, sandbox, org.owner.email)
            account_id = accounts.find_account(runtime, org.owner.email).id
            for person in org.expectations:
                if person.role in ROLES:
                    contacts.set_role(runtime, account_id, person.email, person.role)
            run_cycle(runtime, now=NOW)
            html = web.get("/dashboard").text
        yield Board(html, runtime, org, account_audit(runtime, org.owner.email, now=NOW))
        runtime.db.dispose()
        sandbox.stop()


def svg(html: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, re.DOTALL)
    assert found, f"no {chart_id} on the page"
    return ET.fromstring(found.group(0))


def section(html: str, status: str) -> str:
    start = html.index(f'<section class="audit-group" data-status="{status}">')
    return html[start : html.index("</section>", start)]


def test_calm_groups_are_collapsed_behind_a_summary_and_urgent_ones_stay_open(
    board: Board,
) -> None:
    weak = sum(1 for h in board.healths if h.status == Status.WEAK_TIE)
    healthy = sum(1 for h in board.healths if h.status == Status.HEALTHY)
    assert weak > 10
    assert healthy > 1
    weak_ties = section(board.html, "weak_tie")
    assert "<details>" in weak_ties
    assert (
        f"<summary>{weak} people you meet only in large meetings or rarely</summary>" in weak_ties
    )
    assert f"<summary>{healthy} healthy relationships</summary>" in section(board.html, "healthy")
    for status in URGENT & {h.status.value for h in board.healths}:
        assert "<details>" not in section(board.html, status), status


def test_every_contact_shows_its_strength(board: Board) -> None:
    rows = board.html.split("<tr>")
    for health in board.healths:
        shown = f'class="who">{display_name(health.name, health.email)}<'
        (row,) = [r for r in rows if shown in r]
        assert f'class="strength fact">{health.strength:.1f}</td>' in row, health.email
    assert 'id="strength-note"' in board.html


def test_the_header_names_the_account_once(board: Board) -> None:
    header = re.search(r'<p class="muted" id="account">(.*?)</p>', board.html, re.DOTALL)
    assert header
    assert header.group(1).count(board.org.owner.email) == 1


def test_the_rhythm_chart_has_a_bar_and_a_tick_per_key_person(board: Board) -> None:
    chart = svg(board.html, "rhythm-chart")
    assert chart.get("role") == "img"
    assert "key people" in (chart.get("aria-label") or "")
    marks = {g.get("data-email"): g for g in chart.iter(f"{SVG}g")}
    key = [
        h
        for h in board.healths
        if h.status.value in URGENT or (h.role and h.status == Status.HEALTHY)
    ]
    assert list(marks) == [h.email for h in key], "the audit's people, in its order"
    for health in key:
        mark = marks[health.email]
        since = health.features.working_days_since_last
        assert mark.get("class") == f"mark st-{health.status.value}"
        assert since is not None, "everyone the generated team plants has met the owner"
        assert mark.get("data-since") == str(since)
        assert mark.get("data-usual") == f"{health.cadence_working_days:.0f}"
        title = mark.find(f"{SVG}title")
        assert title is not None
        assert f"last met {workdays_ago(since)}" in (title.text or "")
        name, label = (t.text for t in mark.iter(f"{SVG}text"))
        assert name == display_name(health.name, health.email)
        assert label is not None
        assert label.startswith(f"{since} {'day' if since == 1 else 'days'} · usual ")
        assert len(mark.findall(f"{SVG}line[@class='tick']")) == 1


def test_the_rhythm_bars_share_one_scale(board: Board) -> None:
    """Bars grow with the gap, one scale for all; gaps beyond the axis fill it."""
    chart = svg(board.html, "rhythm-chart")
    bars = []
    for g in chart.iter(f"{SVG}g"):
        (bar,) = g.findall(f"{SVG}rect[@class='bar']")
        bars.append((int(g.get("data-since") or 0), float((bar.get("width") or "").rstrip("%"))))
    within = [(since, width) for since, width in bars if width < 100]
    beyond = [since for since, width in bars if width == 100]
    assert len({since for since, _ in within}) > 2
    longest, its_width = max(within)
    per_day = its_width / longest
    for since, width in within:
        assert width == pytest.approx(since * per_day, abs=0.02)
    assert all(since >= 100 / per_day - 0.5 for since in beyond)


def test_the_trend_counts_equal_fresh_audits_as_of_each_week_end(board: Board) -> None:
    chart = svg(board.html, "trend-chart")
    assert chart.get("role") == "img"
    series = {g.get("data-status"): g.findall(f"{SVG}circle") for g in chart.iter(f"{SVG}g")}
    assert set(series) == {"healthy", "fading", "neglected", "lapsed_one_on_one"}
    moments = [*week_ends(NOW, board.org.owner.time_zone), NOW]
    expected = [as_of(board, moment) for moment in moments[:-1]]
    expected.append(status_counts(board.healths))
    for status, circles in series.items():
        assert [datetime.fromisoformat(c.get("data-at") or "") for c in circles] == moments
        counts = [int(c.get("data-count") or -1) for c in circles]
        assert counts == [e.get(Status(status), 0) for e in expected], status
        for circle in circles:
            title = circle.find(f"{SVG}title")
            assert title is not None
            assert (title.text or "").endswith(f"{circle.get('data-count')} " + words(status))
    lapsed = [int(c.get("data-count") or 0) for c in series["lapsed_one_on_one"]]
    assert lapsed[0] < lapsed[-1], "the generated team's one-on-ones lapse over the weeks"


def words(status: str) -> str:
    return {"neglected": "drifting", "lapsed_one_on_one": "one-on-one paused"}.get(status, status)


def as_of(board: Board, moment: datetime) -> dict[Status, int]:
    """A fresh audit at ``moment`` of the calendar as it stood then."""
    ruleset = rules_in_force(board.runtime)
    account_id = accounts.find_account(board.runtime, board.org.owner.email).id
    with session_scope(board.runtime.db) as session:
        owner = owner_of(session.get_one(Account, account_id))
        prefs = contacts.prefs_of(session, account_id)
        events = as_it_stood(event_store.iter_events(session, account_id), moment)
    healths = audit(owner, events, prefs, moment, ruleset.judgement, ruleset.roles)
    return status_counts(healths)
