"""``GET /users/{id | userPrincipalName}``: another user of the tenant, as Graph shows it.

Modelled on Graph v1.0's user resource and permissions (microsoft-graph-docs,
``resources/user.md``, ``api/user-get.md``; the permissions reference):

- Another user needs ``User.ReadBasic.All`` or more (``User.Read`` reads only oneself);
  without it 403 ``Authorization_RequestDenied``.
- ``User.ReadBasic.All`` reaches only the basic profile (displayName, givenName, surname,
  mail, userPrincipalName, photo). ``employeeHireDate`` is in the full profile: selecting
  it without ``User.Read.All`` (or ``Directory.Read.All``) is refused the same way.
- ``employeeHireDate`` (DateTimeOffset, UTC) is "returned only on ``$select``": absent
  from the default properties, ``null`` where the directory holds none (the world's
  ``hire_dates``). ``$select`` returns the selected properties only.
- An address the directory does not know: 404 ``Request_ResourceNotFound``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nudger.sandbox.microsoft_common import GRAPH_PREFIX, GraphError, graph_endpoint
from nudger.sandbox.microsoft_graph import user_resource
from nudger.sandbox.microsoft_tokens import authenticate
from nudger.sandbox.world import World

OTHER_USERS = frozenset(
    {"user.readbasic.all", "user.read.all", "user.readwrite.all", "directory.read.all"}
)
FULL_PROFILE = frozenset({"user.read.all", "user.readwrite.all", "directory.read.all"})
HIRE_DATE = "employeeHireDate"


class Users:
    def __init__(self, world: World) -> None:
        self.world = world

    @graph_endpoint
    async def user(self, request: Request) -> Response:
        address = request.path_params["user"].lower()
        selected = _selected(request)
        accepted = FULL_PROFILE if HIRE_DATE in selected else OTHER_USERS
        authenticate(self.world, request, accepted, "Authorization_RequestDenied")
        with self.world.lock:
            known = address in self.world.people or address in self.world.mailboxes
            hired = self.world.hire_dates.get(address)
        if not known:
            message = (
                f"Resource '{address}' does not exist or one of its queried reference-property "
                "objects are not present."
            )
            raise GraphError(404, "Request_ResourceNotFound", message)
        resource: dict[str, Any] = user_resource(self.world, address)
        resource[HIRE_DATE] = hired.strftime("%Y-%m-%dT%H:%M:%SZ") if hired else None
        if not selected:
            resource.pop(HIRE_DATE)  # returned only on $select
            return JSONResponse(resource)
        return JSONResponse({key: resource.get(key) for key in selected})


def _selected(request: Request) -> list[str]:
    raw = request.query_params.get("$select", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def routes(world: World) -> list[BaseRoute]:
    users = Users(world)
    return [Route(GRAPH_PREFIX + "/users/{user}", users.user, methods=["GET"])]
