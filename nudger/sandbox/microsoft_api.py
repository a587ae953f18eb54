"""PLACEHOLDER for the Microsoft Graph front-end (written by another helper).

Created only so the server can start while the real module is being written;
replace this file wholesale.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from nudger.sandbox.world import World

GRAPH_PREFIX = "/graph/v1.0"


def routes(world: World) -> list[BaseRoute]:
    return []


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers)
