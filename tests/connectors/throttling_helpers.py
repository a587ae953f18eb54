"""Reading the emulator's request log: which pages were asked for, when, and how often."""

from __future__ import annotations

from nudger.sandbox.world import RequestRecord, World


def calls_to(world: World, suffix: str) -> list[RequestRecord]:
    """The GET requests whose path ends with ``suffix``, in the order they arrived."""
    with world.lock:
        return [r for r in world.requests if r.path.endswith(suffix) and r.method == "GET"]


def faults_of(calls: list[RequestRecord]) -> list[int | None]:
    """The injected status each call was answered with (None: served normally)."""
    return [c.fault for c in calls]


def rounds_started(calls: list[RequestRecord], window_param: str) -> int:
    """Full rounds begun and served: first pages (the window, no page token) not faulted.

    Google repeats the window on every page of a round; Graph bakes it into its links."""
    return sum(
        1
        for c in calls
        if window_param in c.query and "pageToken" not in c.query and c.fault is None
    )


def asked_once_each(calls: list[RequestRecord]) -> bool:
    """No page (the same path and query) was requested twice."""
    keys = [(c.path, sorted(c.query.items())) for c in calls]
    return all(keys.count(key) == 1 for key in keys)
