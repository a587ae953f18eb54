"""The crunch dial in the engine: while it is on, only repairs and direct-report
one-on-ones go out, cadences stretch, and at its end the same inputs decide as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import Rupture, Status
from nudger.rules.crunch import Crunch, ends_at, in_force
from nudger.rules.engine import next_change
from tests.rules.test_engine import NOW, PARIS, SHIPPED, health, run, with_policies

UNTIL = date(2024, 6, 20)
ENDS = datetime(2024, 6, 19, 22, 0, tzinfo=UTC)  # midnight starting 20 June in Paris
ROOMY = with_policies(weekly_budget=10)
"""A budget that leaves every decision in: what is left out is the crunch's doing."""


def ruptured(email: str) -> ContactHealth:
    one = health(email, Status.HEALTHY)
    rupture = Rupture(NOW - timedelta(days=6), "cancelled", 7, 4)
    return replace(one, features=replace(one.features, rupture=rupture))


AUDIT = [
    health("dr-missing@x.example", Status.MISSING_ONE_ON_ONE, role="direct_report"),
    health("dr-lapsed@x.example", Status.LAPSED_ONE_ON_ONE, role="direct_report"),
    health("dr-quiet@x.example", Status.NEGLECTED, role="direct_report"),
    health("peer@x.example", Status.FADING, role="peer"),
    health("old@x.example", Status.NEGLECTED),
    ruptured("repair@x.example"),
]


def test_a_crunch_ends_at_midnight_starting_its_date_in_the_owners_zone() -> None:
    assert ends_at(Crunch(UNTIL), PARIS) == ENDS


def test_during_a_crunch_only_repairs_and_direct_report_one_on_ones_go_out() -> None:
    crunching = in_force(ROOMY, Crunch(UNTIL), NOW, PARIS)

    sent = {d.contact_email for d in run(AUDIT, ruleset=crunching)}

    assert sent == {"dr-missing@x.example", "dr-lapsed@x.example", "repair@x.example"}


def test_a_crunch_stretches_every_cadence_by_its_factor() -> None:
    shipped = SHIPPED.judgement

    default = in_force(SHIPPED, Crunch(UNTIL), NOW, PARIS).judgement
    chosen = in_force(SHIPPED, Crunch(UNTIL, 3.0), NOW, PARIS).judgement

    assert default.fading_factor == shipped.fading_factor * SHIPPED.policies.crunch_factor
    assert default.neglected_factor == shipped.neglected_factor * 2
    assert chosen.fading_factor == shipped.fading_factor * 3


def test_after_the_end_date_everything_is_back_without_any_other_change() -> None:
    after = ENDS + timedelta(minutes=1)
    crunching = in_force(ROOMY, Crunch(UNTIL), ENDS - timedelta(minutes=1), PARIS)

    back = {d.contact_email for d in run(AUDIT, ruleset=crunching, now=after)}

    assert in_force(ROOMY, Crunch(UNTIL), ENDS, PARIS) == ROOMY
    assert back == {d.contact_email for d in run(AUDIT, ruleset=ROOMY, now=after)}
    assert back == {h.email for h in AUDIT}


def test_a_crunchs_end_is_when_the_engine_may_answer_otherwise() -> None:
    crunching = in_force(SHIPPED, Crunch(UNTIL), NOW, PARIS)

    assert next_change(AUDIT, {}, [], crunching, NOW) == ENDS
