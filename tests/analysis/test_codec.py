"""The audit kept between passes reads back exactly as it was written."""

from __future__ import annotations

import json

from nudger.analysis import codec
from nudger.analysis.model import ContactPrefs
from nudger.connectors.base import Response
from tests.analysis.builders import (
    crowd,
    days_ago,
    days_ahead,
    every,
    meeting,
    person,
    run_audit,
    series,
)

ANN, BOB, CAT, DAN = "ann@corp.example", "bob@corp.example", "cat@corp.example", "dan@corp.example"


def test_an_audit_reads_back_equal_through_json() -> None:
    events = [
        *series(ANN, days_ago(70), 7, 10, cancelled=[7, 8, 9]),  # lapsed, with a rupture
        *every(7, 30, 6, BOB),
        meeting(days_ahead(3), BOB),
        *every(5, 2, 3, CAT, DAN),  # a group of two
        meeting(days_ago(4), *crowd(12)),  # weak ties
        meeting(days_ago(6), person(DAN, Response.DECLINED)),
    ]
    prefs = [ContactPrefs("eve@corp.example", role="mentor", name="Eve")]
    healths = list(run_audit(events, prefs).values())

    written = json.dumps(codec.to_json(healths))

    assert codec.from_json(json.loads(written)) == healths
    assert {h.status for h in healths} >= {"lapsed_one_on_one", "weak_tie", "healthy"}
    assert any(h.group for h in healths)
    assert any(h.repair for h in healths)


def test_the_schema_names_every_field_nested_ones_included() -> None:
    names = codec.schema().split(";")

    assert "ContactHealth.features" in names
    assert "ContactFeatures.one_on_one" in names
    assert "OneOnOne.held_ratio" in names
    assert "Rupture.working_days_open" in names
