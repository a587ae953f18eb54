"""The emulator's Microsoft front-end: identity platform v2.0 and Graph v1.0.

Paths mirror Microsoft's under one host: ``/{tenant}/v2.0/.well-known/...`` and
``/{tenant}/oauth2/v2.0/...`` (``microsoft_identity``; request checks and AADSTS
errors in ``microsoft_oauth_checks``, token state in ``microsoft_tokens``), Graph
under ``GRAPH_PREFIX`` (``microsoft_graph``; delta rounds in ``microsoft_delta``,
event resources in ``microsoft_events``, free/busy in ``microsoft_schedule``). Errors
use Graph's JSON body (``graph_error``). msal must be built with
``instance_discovery=False``: otherwise it asks login.microsoftonline.com itself.

Control hooks for tests (under ``/_sandbox``, so neither recorded nor faulted):

- ``POST /_sandbox/microsoft/users/{email}/revoke-refresh-tokens``: every refresh
  token of the user answers ``invalid_grant`` (AADSTS50173) from now on.
- ``POST /_sandbox/microsoft/users/{email}/expire-access-tokens``: Graph answers 401
  to the user's current access tokens.

Both answer ``{"email", "count"}``; the same hooks are plain functions in
``microsoft_tokens`` (``revoke_refresh_tokens``, ``expire_access_tokens``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.sandbox import microsoft_graph, microsoft_identity, microsoft_users
from nudger.sandbox.microsoft_common import GRAPH_PREFIX, graph_error
from nudger.sandbox.microsoft_tokens import expire_access_tokens, revoke_refresh_tokens
from nudger.sandbox.sign_in_page import SignInPages
from nudger.sandbox.world import World

__all__ = ["GRAPH_PREFIX", "graph_error", "routes"]

CONTROL_PREFIX = "/_sandbox/microsoft/users/{email}"


class _Control:
    def __init__(self, world: World) -> None:
        self.world = world

    def _email(self, request: Request) -> str | None:
        email = request.path_params["email"].lower()
        with self.world.lock:
            return email if email in self.world.mailboxes else None

    async def revoke(self, request: Request) -> Response:
        email = self._email(request)
        if email is None:
            return JSONResponse({"error": "unknown mailbox"}, status_code=404)
        return JSONResponse({"email": email, "count": revoke_refresh_tokens(self.world, email)})

    async def expire(self, request: Request) -> Response:
        email = self._email(request)
        if email is None:
            return JSONResponse({"error": "unknown mailbox"}, status_code=404)
        return JSONResponse({"email": email, "count": expire_access_tokens(self.world, email)})


def routes(world: World, pages: SignInPages | None = None) -> list[BaseRoute]:
    control = _Control(world)
    return [
        Route(CONTROL_PREFIX + "/revoke-refresh-tokens", control.revoke, methods=["POST"]),
        Route(CONTROL_PREFIX + "/expire-access-tokens", control.expire, methods=["POST"]),
        *microsoft_graph.routes(world),
        *microsoft_users.routes(world),
        *microsoft_identity.routes(world, pages),
    ]
