"""Sign-up, OAuth callbacks, sign-out and health.

OAuth starts and callbacks go through ``nudger.accounts``, the same code path the
demo uses. A callback with an unknown, expired or replayed state is refused with
400 and creates nothing. The state is also bound to the browser that started the
flow (kept in its session), so nobody can sign a victim into the attacker's account
by sending them a callback URL. A successful callback signs the browser in.
"""

from __future__ import annotations

import hmac
import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from nudger import accounts
from nudger.config import Settings
from nudger.connectors.registry import Provider, provider, provider_names
from nudger.errors import (
    ConfigError,
    ConnectorError,
    IdentityConflict,
    MissingScopes,
    OAuthStateError,
    UnusableAddress,
)
from nudger.web.pages import Web
from nudger.web.security import OAUTH_STATE_KEY, checked_form, sign_in, sign_out_everywhere
from nudger.workers.status import pass_status_now

log = logging.getLogger(__name__)


class SignupRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web

    def routes(self) -> list[Route]:
        return [
            Route("/", self.home),
            Route("/connect/{provider}", self.connect),
            Route("/oauth/{provider}/callback", self.callback),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/healthz", self.healthz),
        ]

    def home(self, request: Request) -> Response:
        settings = self.web.runtime.settings
        providers = [
            {
                "name": name,
                "label": provider(name).label,
                "setup": setup_advice(provider(name), settings),
                "login_hint": self.web.login_hints.get(name),
            }
            for name in provider_names()
        ]
        return self.web.page(request, "signup.html", {"providers": providers})

    def connect(self, request: Request) -> Response:
        name = request.path_params["provider"]
        try:
            chosen = provider(name)
        except ConfigError as exc:
            return self.web.message(request, "Unknown provider", str(exc), 404)
        off = f"{chosen.label} sign-in is not available"
        advice = setup_advice(chosen, self.web.runtime.settings)
        if advice:
            return self.web.message(request, off, advice, 503)
        hint = request.query_params.get("login_hint") or self.web.login_hints.get(name)
        try:
            start = accounts.begin_connect(self.web.runtime, name, login_hint=hint)
        except ConfigError as exc:
            return self.web.message(request, off, f"This server's settings: {exc}", 503)
        except ConnectorError as exc:
            log.warning("starting sign-in with %s failed: %s", name, exc)
            text = f"{chosen.label} could not be reached to start signing in ({exc}); try again."
            return self.web.message(request, off, text, 502 if exc.permanent else 503)
        request.session[OAUTH_STATE_KEY] = start.state
        return RedirectResponse(start.url, status_code=302)

    def callback(self, request: Request) -> Response:
        name = request.path_params["provider"]
        if not _state_started_here(request):
            text = "This sign-in was not started in this browser, or was already used; start again."
            return self.web.message(request, "Sign-in refused", text, 400)
        try:
            ref = accounts.complete_connect(self.web.runtime, name, dict(request.query_params))
        except OAuthStateError as exc:
            return self.web.message(request, "Sign-in refused", str(exc), 400)
        except MissingScopes as exc:
            text = f"nudger needs every permission it asks for: {exc}"
            return self.web.message(request, "Some permissions are missing", text, 400)
        except IdentityConflict as exc:
            return self.web.message(request, "Sign-in refused", str(exc), 409)
        except UnusableAddress as exc:
            return self.web.message(request, "Sign-in refused", str(exc), 400)
        except ConnectorError as exc:
            log.warning("sign-in with %s failed: %s", name, exc)
            return self.web.message(request, "Sign-in failed", str(exc), 502)
        sign_in(self.web.runtime, request, ref.id, self.web.clock())
        pending = accounts.guided_start_pending(self.web.runtime, ref.id)
        return RedirectResponse("/start" if pending else "/dashboard", status_code=303)

    async def logout(self, request: Request) -> Response:
        await checked_form(request)
        await run_in_threadpool(sign_out_everywhere, self.web.runtime, request)
        return RedirectResponse("/", status_code=303)

    async def healthz(self, request: Request) -> Response:
        """Up, plus the passes' state (queue depth, oldest due, last pass, failing count)."""
        try:
            current = await run_in_threadpool(pass_status_now, self.web.runtime)
        except SQLAlchemyError as exc:
            log.warning("health check: database unavailable: %s", exc.__class__.__name__)
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse(current.to_health_json())


def _state_started_here(request: Request) -> bool:
    """The callback's state is the one this browser's session started (single use)."""
    expected = request.session.pop(OAUTH_STATE_KEY, None)
    given = request.query_params.get("state", "")
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def setup_advice(chosen: Provider, settings: Settings) -> str | None:
    """What the operator must set before anyone can connect ``chosen``; None when set."""
    missing = chosen.missing(settings)
    if not missing:
        return None
    return (
        f"Connecting {chosen.label} needs this server's OAuth client: set "
        f"{' and '.join(missing)}, then restart nudger."
    )
