"""Where the shipped templates and default config live, checked out or installed."""

from __future__ import annotations

import sys
from pathlib import Path

from nudger.errors import ConfigError


def resource_dir(name: str) -> Path:
    """``templates`` or ``config``: beside the package when checked out, in share/ installed."""
    candidates = (
        Path(__file__).resolve().parents[1] / name,
        Path(sys.prefix) / "share" / "nudger" / name,
    )
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"cannot find nudger's {name}/ folder (looked in {', '.join(map(str, candidates))})"
    )
