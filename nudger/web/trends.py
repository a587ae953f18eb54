"""The dashboard's 12-week trend: the audit as of each past week-end, kept per account
until something it rests on changes.

Twelve audits of the demo team take about 0.4 s, too slow for every page view. What
they rest on is what the decide step keys its stored audit on: the events (the sync
bumps ``events_version`` on each change) and ``analysis_key`` (the owner, what the user
said about contacts, the judgement and roles, and the owner's date, which also fixes
the week-ends). The same two keep a trend here; the next change computes it afresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime

from nudger import contacts
from nudger.analysis.trend import TrendPoint, status_trend, week_ends
from nudger.passes.analyse import analysis_key, owner_of
from nudger.rules.model import RuleSet
from nudger.runtime import Runtime
from nudger.store import analysis_state
from nudger.store import events as event_store
from nudger.store.db import session_scope
from nudger.store.models import Account

log = logging.getLogger(__name__)

KEPT_ACCOUNTS = 256
"""Trends kept at once (the least recently shown goes first): a few KB each."""


class TrendCache:
    """Past week-ends' status counts per account, for one web app."""

    def __init__(self, size: int = KEPT_ACCOUNTS) -> None:
        self._size = size
        self._kept: OrderedDict[int, tuple[tuple[int, str], list[TrendPoint]]] = OrderedDict()
        self._lock = threading.Lock()

    def past_weeks(
        self, runtime: Runtime, account_id: int, ruleset: RuleSet, now: datetime
    ) -> list[TrendPoint]:
        """The status counts as of each of the last 12 week-ends, oldest first."""
        with session_scope(runtime.db) as session:
            account = session.get_one(Account, account_id)
            prefs = contacts.prefs_of(session, account_id)
            version = analysis_state.load(session, account_id).events_version
            key = (version, analysis_key(account, prefs, ruleset, now))
            with self._lock:
                kept = self._kept.get(account_id)
                if kept is not None and kept[0] == key:
                    self._kept.move_to_end(account_id)
                    return kept[1]
            owner = owner_of(account)
            events = list(event_store.iter_events(session, account_id))
        started = time.perf_counter()
        moments = week_ends(now, owner.time_zone)
        points = status_trend(owner, events, prefs, moments, ruleset.judgement, ruleset.roles)
        log.debug(
            "account %s: trend of %d events in %.2fs",
            account_id,
            len(events),
            time.perf_counter() - started,
        )
        self._keep(account_id, key, points)
        return points

    def _keep(self, account_id: int, key: tuple[int, str], points: list[TrendPoint]) -> None:
        with self._lock:
            self._kept[account_id] = (key, points)
            self._kept.move_to_end(account_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
