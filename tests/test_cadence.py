"""Each account's slot in the sync period: spread, stable, and new sign-ups at once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from nudger.cadence import SYNC_PERIOD, first_due, next_due, next_slot, slot_offset

T0 = datetime(2025, 3, 3, 9, 7, 30, tzinfo=UTC)


def test_a_thousand_accounts_spread_over_the_period() -> None:
    minutes = Counter(int(slot_offset(i).total_seconds() // 60) for i in range(1, 1001))
    assert set(minutes) == set(range(15))  # every minute of the fifteen is used
    assert max(minutes.values()) < 1000 / 15 * 1.5  # and none takes a crowd


def test_an_account_keeps_its_slot_from_one_period_to_the_next() -> None:
    first = next_slot(42, T0)
    assert T0 < first <= T0 + SYNC_PERIOD
    assert next_slot(42, first) == first + SYNC_PERIOD
    assert next_slot(42, first - timedelta(microseconds=1)) == first


def test_with_workers_the_next_pass_is_due_in_the_accounts_slot() -> None:
    assert next_due(42, T0, spread=True) == next_slot(42, T0)
    assert next_due(42, T0, spread=False) == T0 + SYNC_PERIOD


def test_a_new_sign_up_is_due_at_once_an_old_account_in_its_slot() -> None:
    assert first_due(42, T0 - timedelta(minutes=1), T0) == T0 - timedelta(minutes=1)
    assert first_due(42, T0 - timedelta(days=90), T0) == next_slot(42, T0)
