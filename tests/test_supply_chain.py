"""Dependencies: floors past known advisories, and locks that pin them with hashes.

Issue 11, item 11. The advisories each floor answers (fixed-in versions from the
GitHub advisory database):

- starlette 1.0.1: CVE-2026-48710 / GHSA-86qp-5c8j-p5mr ("BadHost", Host header
  poisons the request URL).
- python-multipart 0.0.31: GHSA-v9pg-7xvm-68hf (negative Content-Length buffers the
  whole body), after CVE-2026-53537/53538/53539 (0.0.30).
- requests 2.33.0: CVE-2026-25645, after CVE-2024-47081 (.netrc leak, 2.32.4).
- Jinja2 3.1.6: CVE-2025-27516 / GHSA-cpwx-vrp4-4pq7.
- cryptography 50.0.0: CVE-2026-69247 / GHSA-g6cj-pr64-35w5.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ADVISORIES = {
    "starlette": ("1.0.1", "CVE-2026-48710"),
    "python-multipart": ("0.0.31", "GHSA-v9pg-7xvm-68hf"),
    "requests": ("2.33.0", "CVE-2026-25645"),
    "jinja2": ("3.1.6", "CVE-2025-27516"),
    "cryptography": ("50.0.0", "CVE-2026-69247"),
}
LOCKS = {"runtime.lock": ("postgres",), "dev.lock": ("postgres", "dev")}
BUILD_ONLY = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["build-system"]["requires"]}
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", re.M)


def declared(*extras: str) -> dict[str, Requirement]:
    """pyproject's requirements: the core ones plus those of ``extras``."""
    project = PYPROJECT["project"]
    lines = [*project["dependencies"]]
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def locked(name: str) -> dict[str, tuple[Version, int]]:
    """A lock's pins: version and number of hashes, by canonical name."""
    text = (ROOT / "requirements" / name).read_text()
    return {
        canonicalize_name(m[1]): (Version(m[2]), m[3].count("--hash=")) for m in _PIN.finditer(text)
    }


@pytest.mark.parametrize("name", ADVISORIES)
def test_the_floor_excludes_versions_with_a_known_advisory(name: str) -> None:
    fixed, advisory = ADVISORIES[name]
    floors = [Version(s.version) for s in declared()[name].specifier if s.operator == ">="]
    assert floors, f"{name} has no >= floor"
    assert max(floors) >= Version(fixed), f"{name} still allows versions open to {advisory}"
    assert advisory in (ROOT / "pyproject.toml").read_text(), "the floor names its advisory"
    assert Version(installed_version(name)) >= Version(fixed)


@pytest.mark.parametrize("lock", LOCKS)
def test_the_lock_pins_every_dependency_with_hashes(lock: str) -> None:
    pins = locked(lock)
    for name, requirement in declared(*LOCKS[lock]).items():
        assert name in pins, f"{lock} does not pin {name}"
        pinned = pins[name][0]
        assert requirement.specifier.contains(pinned, prereleases=True), f"{lock}: {name}"
    assert all(hashes for _, hashes in pins.values()), "pip --require-hashes needs them all"


def test_the_image_runs_what_the_tests_ran() -> None:
    dev = locked("dev.lock")
    assert {n: dev.get(n) for n in locked("runtime.lock")} == locked("runtime.lock")


def test_the_tests_run_on_the_locked_versions() -> None:
    """Installed from ``requirements/dev.lock`` (``make test``), nothing newer or older."""
    pins = {n: v for n, (v, _) in locked("dev.lock").items() if n not in BUILD_ONLY}
    assert {n: Version(installed_version(n)) for n in pins} == pins


def test_the_installer_is_pinned_with_hashes() -> None:
    """``make`` installs uv with pip --require-hashes before uv installs anything."""
    pins = locked("installer.lock")
    assert set(pins) == {"uv"}
    assert pins["uv"][1] > 0
