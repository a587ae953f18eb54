"""Groups: people met lately only in the same meetings, judged and nudged as one.

When you, Jordan, Alex and Sam stop meeting, that is one relationship going quiet,
not three: their latest meetings with you are the very same events. People whose last
``Judgement.group_meetings`` meetings are identical form a group, as long as it is no
bigger than a medium meeting (an all-hands crowd is not a group anyone keeps up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping


def find_groups(
    recent_meetings: Mapping[str, tuple[str, ...]], meetings: int, max_members: int
) -> dict[str, tuple[str, ...]]:
    """Each grouped contact's group (sorted emails, itself included)."""
    by_meetings: defaultdict[tuple[str, ...], list[str]] = defaultdict(list)
    for email, recent in recent_meetings.items():
        if len(recent) >= meetings:
            by_meetings[recent].append(email)
    groups: dict[str, tuple[str, ...]] = {}
    for members in by_meetings.values():
        if 2 <= len(members) <= max_members:
            group = tuple(sorted(members))
            groups.update(dict.fromkeys(group, group))
    return groups
