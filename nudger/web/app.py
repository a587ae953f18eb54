"""The web app: sign-up with a Connect button per provider, OAuth callbacks, health.

OAuth starts and callbacks go through ``nudger.accounts``, the same code path the
demo uses. A callback with an unknown, expired or replayed state is refused with
400 and creates nothing.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from nudger import accounts
from nudger.connectors.registry import provider, provider_names
from nudger.errors import ConfigError, ConnectorError, MissingScopes, OAuthStateError
from nudger.resources import resource_dir
from nudger.runtime import Runtime

log = logging.getLogger(__name__)


def create_app(runtime: Runtime) -> Starlette:
    templates = Jinja2Templates(directory=str(resource_dir("templates") / "web"))

    async def home(request: Request) -> Response:
        providers = [
            {
                "name": name,
                "label": provider(name).label,
                "configured": provider(name).configured(runtime.settings),
            }
            for name in provider_names()
        ]
        return templates.TemplateResponse(request, "signup.html", {"providers": providers})

    async def connect(request: Request) -> Response:
        name = request.path_params["provider"]
        try:
            start = accounts.begin_connect(
                runtime, name, login_hint=request.query_params.get("login_hint")
            )
        except ConfigError as exc:
            return _message(templates, request, "Unknown provider", str(exc), 404)
        return RedirectResponse(start.url, status_code=302)

    async def callback(request: Request) -> Response:
        name = request.path_params["provider"]
        try:
            ref = accounts.complete_connect(runtime, name, dict(request.query_params))
        except OAuthStateError as exc:
            return _message(templates, request, "Sign-in refused", str(exc), 400)
        except MissingScopes as exc:
            return _message(
                templates,
                request,
                "Some permissions are missing",
                f"nudger needs every permission it asks for: {exc}",
                400,
            )
        except ConnectorError as exc:
            log.warning("sign-in with %s failed: %s", name, exc)
            return _message(templates, request, "Sign-in failed", str(exc), 502)
        return _message(
            templates,
            request,
            "You're connected",
            f"{ref.email} is connected. nudger will take it from here.",
            200,
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/", home),
        Route("/connect/{provider}", connect),
        Route("/oauth/{provider}/callback", callback),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes)


def _message(
    templates: Jinja2Templates, request: Request, title: str, text: str, status: int
) -> Response:
    return templates.TemplateResponse(
        request, "message.html", {"title": title, "text": text}, status_code=status
    )
