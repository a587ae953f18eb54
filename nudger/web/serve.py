"""``nudger serve``: the web app and the scheduler in one process."""

from __future__ import annotations

import logging

import uvicorn
from rich.console import Console
from starlette.types import ASGIApp

from nudger.config import load_settings
from nudger.files import private_folder
from nudger.log_redaction import install_log_redaction
from nudger.runtime import open_runtime
from nudger.scheduler import start_scheduler
from nudger.web.app import create_app

log = logging.getLogger(__name__)


def run_server(console: Console, *, host: str, port: int, sandbox: bool) -> None:
    overrides: dict[str, str] = {}
    emulator = None
    hints: dict[str, str] = {}
    if sandbox:
        from nudger.sandbox.run import start_sandbox

        emulator, org = start_sandbox()
        base = load_settings()
        sandbox_dir = base.data_dir / "sandbox"
        private_folder(sandbox_dir)
        (sandbox_dir / "nudger.db").unlink(missing_ok=True)  # the emulator's world is new too
        overrides = {
            **emulator.settings(),
            "base_url": f"http://{host}:{port}",
            "data_dir": str(sandbox_dir),
            "database_url": f"sqlite:///{sandbox_dir / 'nudger.db'}",
        }
        hints = {org.owner.provider: org.owner.email}
        console.print(f"sandbox emulator on {emulator.base_url}; sign in as {org.owner.email}")
    runtime = open_runtime(load_settings(**overrides))
    scheduler = start_scheduler(runtime)
    console.print(f"nudger on http://{host}:{port}")
    try:
        world = emulator.world if emulator else None
        app = create_app(runtime, login_hints=hints, sandbox_world=world)
        uvicorn.Server(server_config(app, host=host, port=port)).run()
    finally:
        scheduler.shutdown(wait=False)
        if emulator:
            emulator.stop()


def server_config(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 8000) -> uvicorn.Config:
    """uvicorn as ``nudger serve`` runs it: the access log on, with OAuth codes and link
    tokens redacted (after uvicorn has configured its loggers)."""
    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    install_log_redaction()
    return config
