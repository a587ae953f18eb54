"""``nudger serve``: the web app and the scheduler in one process.

Unless ``NUDGER_BASE_URL`` is set (environment or settings file), the public URL, and
with it the OAuth redirect URIs and the links in emails, is where this process listens:
``--host`` and ``--port``. A provider whose OAuth client is not set up is named once in
the start-up log with the settings it needs.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

import uvicorn
from rich.console import Console
from starlette.types import ASGIApp

from nudger.config import Settings, load_settings
from nudger.connectors.registry import provider, provider_names
from nudger.files import private_folder
from nudger.log_redaction import install_log_redaction
from nudger.runtime import open_runtime
from nudger.scheduler import start_scheduler
from nudger.web.app import create_app
from nudger.web.signup import setup_advice

if TYPE_CHECKING:
    from nudger.sandbox.server import Sandbox  # imported for real only with --sandbox

log = logging.getLogger(__name__)


def run_server(console: Console, *, host: str, port: int, sandbox: bool) -> None:
    settings = load_settings()
    overrides: dict[str, Any] = {}
    if sandbox or "base_url" not in settings.model_fields_set:  # the sandbox is local
        overrides["base_url"] = listening_url(host, port)
    emulator: Sandbox | None = None
    hints: dict[str, str] = {}
    if sandbox:
        emulator, hints, sandbox_overrides = _start_sandbox(console, settings)
        overrides |= sandbox_overrides
    runtime = open_runtime(load_settings(**overrides))
    log_missing_clients(runtime.settings)
    scheduler = start_scheduler(runtime)
    console.print(f"nudger on http://{host}:{port} (public URL {runtime.settings.public_url})")
    try:
        world = emulator.world if emulator else None
        app = create_app(runtime, login_hints=hints, sandbox_world=world)
        uvicorn.Server(server_config(app, host=host, port=port)).run()
    finally:
        scheduler.shutdown(wait=False)
        if emulator:
            emulator.stop()


def _start_sandbox(
    console: Console, settings: Settings
) -> tuple[Sandbox, dict[str, str], dict[str, str]]:
    """The emulator with its people, the sign-in hints, and the settings pointing at it."""
    from nudger.sandbox.run import first_users, start_people_sandbox

    emulator, orgs = start_people_sandbox()
    sandbox_dir = settings.data_dir / "sandbox"
    private_folder(sandbox_dir)
    (sandbox_dir / "nudger.db").unlink(missing_ok=True)  # the emulator's world is new too
    overrides = {
        **emulator.settings(),
        "google_directory": "true",
        "microsoft_hire_dates": "true",
        "data_dir": str(sandbox_dir),
        "database_url": f"sqlite:///{sandbox_dir / 'nudger.db'}",
    }
    hints = first_users(orgs)
    who = ", ".join(f"{provider(name).label} as {email}" for name, email in sorted(hints.items()))
    console.print(f"sandbox emulator on {emulator.base_url}; sign in with {who}", soft_wrap=True)
    return emulator, hints, overrides


def listening_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``host:port`` at."""
    literal = _ip_literal(host)
    if not host or (literal is not None and literal.is_unspecified):
        # Listening everywhere (0.0.0.0, ::): no browser can be sent back to that.
        log.warning(
            "listening on all interfaces: links and OAuth redirects use 127.0.0.1; set "
            "NUDGER_BASE_URL to the address people reach nudger at"
        )
        return f"http://127.0.0.1:{port}"
    name = f"[{host}]" if literal is not None and literal.version == 6 else host
    return f"http://{name}:{port}"


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def log_missing_clients(settings: Settings) -> None:
    for name in provider_names():
        advice = setup_advice(provider(name), settings)
        if advice:
            log.warning("%s", advice)


def server_config(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 8000) -> uvicorn.Config:
    """uvicorn as ``nudger serve`` runs it: the access log on, with OAuth codes and link
    tokens redacted (after uvicorn has configured its loggers)."""
    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    install_log_redaction()
    return config
