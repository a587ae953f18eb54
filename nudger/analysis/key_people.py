"""The guided start's proposals: who the key people look like, and why.

Read from the audit alone (pure, ``now`` already applied by the audit): the strongest
collaborators, people met in a regular one-on-one the owner runs (likely direct
reports), the strongest colleague who runs one with the owner (a likely manager, when
the provider has no org chart), the org chart's roles where the provider has one,
peers inside the owner's domain and external contacts outside it. The user confirms
or corrects each role; nothing here is stored.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from nudger.analysis.audit import ContactHealth
from nudger.analysis.model import OneOnOne, Status

TOP_COLLABORATORS = 12
"""How many of the strongest relationships the page proposes (beyond the org chart)."""
TOP_EXTERNALS = 3
"""The strongest contacts outside the owner's domain are proposed even below the top."""
REPORT_MAX_INTERVAL_DAYS = 15.0
"""A one-on-one at least fortnightly looks like a direct report's."""
DIRECTORY_ROLES = ("direct_report", "manager")


@dataclass(frozen=True)
class Proposal:
    """One person the guided start proposes, with the role it suggests and the evidence."""

    email: str
    name: str | None
    role: str
    """One of ``nudger.contacts.ROLES``."""
    reasons: tuple[str, ...]
    strength: float
    current_role: str | None = None
    """The role already stored (the user's or the directory's), shown preselected."""

    @property
    def chosen(self) -> str:
        """What the form preselects: the stored role, else the proposal."""
        return self.current_role or self.role


def propose_key_people(
    healths: Sequence[ContactHealth],
    owner_email: str,
    directory: Mapping[str, str],
    limit: int = TOP_COLLABORATORS,
) -> list[Proposal]:
    """Everyone worth a role: the ``limit`` strongest, the strongest few outside the
    owner's domain, one-on-one partners, the org chart (``directory``: address → role it
    gives) and anyone with a role already; strongest first."""
    ranked = sorted((h for h in healths if h.status != Status.WEAK_TIE), key=lambda h: -h.strength)
    ranks = {h.email: place for place, h in enumerate(ranked, start=1)}
    domain = _domain(owner_email)
    outside = {h.email for h in ranked if _domain(h.email) != domain}
    strongest_outside = [h.email for h in ranked if h.email in outside][:TOP_EXTERNALS]
    manager = likely_manager(ranked, outside) if "manager" not in directory.values() else None
    org_chart = bool(directory)
    return [
        _proposal(
            h, ranks.get(h.email), domain, directory.get(h.email), org_chart, h.email == manager
        )
        for h in sorted(healths, key=lambda h: -h.strength)
        if ranks.get(h.email, limit + 1) <= limit
        or h.email in strongest_outside
        or h.email in directory
        or h.role
        or _regular_one_on_one(h.features.one_on_one)
    ]


def likely_manager(ranked: Sequence[ContactHealth], outside: Collection[str]) -> str | None:
    """With no org chart: the strongest colleague who runs a regular one-on-one with the
    owner (managers usually own the series with their reports)."""
    return next(
        (
            h.email
            for h in ranked
            if h.email not in outside
            and _regular_one_on_one(h.features.one_on_one)
            and h.features.one_on_one is not None
            and h.features.one_on_one.run_by_contact
        ),
        None,
    )


def _proposal(
    health: ContactHealth,
    rank: int | None,
    domain: str,
    org_role: str | None,
    org_chart: bool,
    manager_guess: bool = False,
) -> Proposal:
    reasons = []
    if org_role in DIRECTORY_ROLES:
        reasons.append("from your org chart")
    one_on_one = health.features.one_on_one
    if _regular_one_on_one(one_on_one):
        assert one_on_one is not None
        whose = " they organise" if one_on_one.run_by_contact else ""
        reasons.append(
            f"{cadence_words(one_on_one.interval_days)} one-on-one series{whose}, "
            f"{_meetings(health.features.interactions)} together"
        )
    if manager_guess:
        reasons.append("likely your manager")
    if rank is not None:
        reasons.append(f"strength {health.strength:.1f}, top {rank}")
    outside = _domain(health.email) != domain
    if outside:
        reasons.append(f"outside {domain}")
    return Proposal(
        email=health.email,
        name=health.name,
        role="manager"
        if manager_guess
        else _suggested_role(org_role, org_chart, one_on_one, outside),
        reasons=tuple(reasons),
        strength=health.strength,
        current_role=health.role,
    )


def _suggested_role(
    org_role: str | None, org_chart: bool, one_on_one: OneOnOne | None, outside: bool
) -> str:
    """The org chart first, then the domain, then a regular one-on-one the owner runs. Where
    the provider has an org chart, it names every direct report: a regular one-on-one with
    anyone else (a peer, a mentee) makes no direct report."""
    if org_role in DIRECTORY_ROLES:
        return str(org_role)
    if outside:
        return "external"
    if org_chart:
        return "peer"
    if _regular_one_on_one(one_on_one) and one_on_one and not one_on_one.run_by_contact:
        return "direct_report"
    return "peer"


def _regular_one_on_one(one_on_one: OneOnOne | None) -> bool:
    return (
        one_on_one is not None
        and not one_on_one.ended
        and one_on_one.interval_days <= REPORT_MAX_INTERVAL_DAYS
    )


def cadence_words(interval_days: float) -> str:
    """``weekly``, ``fortnightly`` or ``every 10 days``."""
    days = round(interval_days)
    if 6 <= days <= 8:
        return "weekly"
    if 13 <= days <= 15:
        return "fortnightly"
    return f"every {days} days"


def _meetings(count: int) -> str:
    return f"{count} meeting{'' if count == 1 else 's'}"


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()
