"""What every route module shares: the runtime, the clock and page rendering.

Pages get the session's CSRF token and whether someone is signed in, so every form
and the navigation render the same way without each route repeating it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from nudger.clock import utcnow
from nudger.resources import resource_dir
from nudger.runtime import Runtime
from nudger.web.security import ACCOUNT_KEY, CSRF_FIELD, csrf_token
from nudger.wording import display_name, kind_words, role_words, status_words

DATETIME = "%a %d %b %Y %H:%M"
STYLESHEET = "/static/nudger.css"


def local_time(
    moment: datetime | None, zone: str | None = None, fmt: str = "%a %d %b %Y %H:%M"
) -> str:
    """A stored UTC datetime on the owner's wall clock, for pages."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone or "UTC")).strftime(fmt)


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(resource_dir("templates") / "web"))
    templates.env.filters["local"] = local_time
    for words in (status_words, role_words, kind_words):
        templates.env.filters[words.__name__] = words
    templates.env.globals["display_name"] = display_name
    return templates


class SentMail(Protocol):
    @property
    def mailbox(self) -> str: ...

    @property
    def raw(self) -> bytes:
        """The RFC 5322 message as sent."""
        ...


class SentMailbox(Protocol):
    """Where the emulator keeps the mail nudger sent, for the sandbox pages: its world
    is one (``nudger.sandbox.world.World``). The web app never imports the emulator."""

    @property
    def sent(self) -> Sequence[SentMail]: ...


@dataclass(frozen=True)
class Web:
    """The web app's dependencies, handed to each route module."""

    runtime: Runtime
    clock: Callable[[], datetime] = utcnow
    login_hints: Mapping[str, str] = field(default_factory=dict)
    """Provider name → address passed as ``login_hint`` (the sandbox user)."""
    sandbox_world: SentMailbox | None = None
    """Set by ``nudger serve --sandbox``: the emulator's world, for the sandbox mail page."""
    templates: Jinja2Templates = field(default_factory=_templates)

    def page(
        self, request: Request, name: str, context: Mapping[str, Any], status: int = 200
    ) -> Response:
        full = {
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request) if ACCOUNT_KEY in request.session else "",
            "signed_in": ACCOUNT_KEY in request.session,
            "sandbox_mode": self.sandbox_world is not None,
            **context,
        }
        return self.templates.TemplateResponse(request, name, full, status_code=status)

    def message(
        self,
        request: Request,
        title: str,
        text: str,
        status: int = 200,
        link: tuple[str, str] | None = None,
    ) -> Response:
        """A page that says one thing; ``link``: (words, URL) of a next step to offer."""
        context = {"title": title, "text": text, "link": link}
        return self.page(request, "message.html", context, status)


def stylesheet_route() -> Route:
    """The pages' one stylesheet (the Content Security Policy allows no inline style)."""
    css = (resource_dir("templates") / "web" / "nudger.css").read_text()

    async def stylesheet(request: Request) -> Response:
        return Response(css, media_type="text/css")

    return Route(STYLESHEET, stylesheet)
