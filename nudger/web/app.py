"""The web app: sign-up, dashboard, settings, one-click links, account deletion.

Route modules: ``signup`` (/, /connect, OAuth callbacks, /logout, /healthz),
``start`` (/start, the guided start after the first sign-up), ``dashboard``,
``settings_page``, ``actions`` (/a/{action}/{token}), ``account`` (/account/delete)
and, with ``nudger serve --sandbox`` only, ``sandbox_page``.
Sessions are signed cookies (``security``); every signed-in page reads and writes only
the session's account. Nothing changes on GET. Every response carries the security
headers of ``headers``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from nudger.clock import utcnow
from nudger.runtime import Runtime
from nudger.web.account import AccountRoutes
from nudger.web.actions import ActionRoutes
from nudger.web.dashboard import DashboardRoutes
from nudger.web.headers import SecurityHeaders
from nudger.web.pages import SentMailbox, Web, stylesheet_route
from nudger.web.sandbox_page import SandboxRoutes
from nudger.web.security import SignInRequired, session_middleware, sign_out
from nudger.web.settings_page import SettingsRoutes
from nudger.web.signup import SignupRoutes
from nudger.web.start import StartRoutes

ERROR_TITLES = {403: "Not allowed", 404: "Not found", 405: "Not allowed"}


def create_app(
    runtime: Runtime,
    *,
    login_hints: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = utcnow,
    sandbox_world: SentMailbox | None = None,
) -> Starlette:
    """``login_hints``: provider → address to preselect (the sandbox user);
    ``sandbox_world``: the emulator's world, whose sent mail /sandbox shows."""
    web = Web(
        runtime, clock=clock, login_hints=dict(login_hints or {}), sandbox_world=sandbox_world
    )
    routes = [
        *SignupRoutes(web).routes(),
        *DashboardRoutes(web).routes(),
        *StartRoutes(web).routes(),
        *SettingsRoutes(web).routes(),
        *ActionRoutes(web).routes(),
        *AccountRoutes(web).routes(),
        *(SandboxRoutes(web, sandbox_world).routes() if sandbox_world else []),
        stylesheet_route(),
    ]

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        sign_out(request)
        return RedirectResponse("/", status_code=303)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = ERROR_TITLES.get(exc.status_code, "Something went wrong")
        return web.message(request, title, str(exc.detail), exc.status_code)

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, https=runtime.settings.public_url.startswith("https://")),
            *session_middleware(runtime, clock),
        ],
        exception_handlers={SignInRequired: sign_in_first, HTTPException: http_error},
    )
