"""Which rules files apply, in merge order: shipped defaults, settings file, explicit file."""

from __future__ import annotations

from pathlib import Path

from nudger.config import Settings, load_settings
from nudger.resources import resource_dir

SHIPPED_RULES = "rules.yaml"


def rule_paths(user_file: Path | None = None, settings: Settings | None = None) -> list[Path]:
    """The shipped ``config/rules.yaml``, then ``NUDGER_RULES_FILE``, then ``user_file``."""
    settings = settings if settings is not None else load_settings()
    paths = [resource_dir("config") / SHIPPED_RULES]
    if settings.rules_file is not None:
        paths.append(settings.rules_file)
    if user_file is not None:
        paths.append(user_file)
    return paths
