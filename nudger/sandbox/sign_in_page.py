"""The emulator's sign-in page, which both providers' authorize endpoints show to people.

It stands in for Google's account chooser and consent screen and for Microsoft's sign-in
page: it names the sandbox user who is signing in (``login_hint``'s, when that is one of
the provider's users), lists the permissions asked for, continues as that user with one
button, and links to every other sandbox user of the provider so a person can sign in as
someone else. Continuing POSTs to the authorize URL itself, which checks the request
again before it issues a code.

Headless clients (tests, the demo) never see it while ``login_hint`` names a user; a
sandbox started with ``Sandbox(sign_in_page=True)`` (``nudger serve --sandbox``) shows it
on every authorize, as the real providers do for a person, and serves it from a plain-HTTP
loopback origin (``SignInPages``) that browsers trust without a certificate.

The page is framed by nobody (clickjacking) and loads nothing. A forged POST gains an
attacker nothing: the code goes to the client's registered callback with the state the
forger chose, which nudger refuses unless the browser's own session started it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from nudger.sandbox.world import Mailbox

ACCOUNT_FIELD = "account"
"""The form field of the POST that continues: the chosen user's address."""
MAX_ADDRESS = 320
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}button{font-size:1rem;padding:.5rem 1rem;cursor:pointer}"
    "code{font-size:.85rem}"
)


@dataclass(frozen=True)
class SignInPages:
    """Where browsers sign in: a plain-HTTP origin on loopback (RFC 8252 §8.3: loopback
    traffic never leaves the machine), while the API stays HTTPS."""

    base_url: str


@dataclass(frozen=True)
class SignIn:
    """What the page shows: the provider, who signs in (None: nobody chosen yet), the
    provider's other users and the permissions the application asks for."""

    provider: str
    chosen: Mailbox | None
    users: Sequence[Mailbox]
    scopes: Sequence[str]

    @property
    def others(self) -> list[Mailbox]:
        chosen = self.chosen.email if self.chosen else None
        return sorted((m for m in self.users if m.email != chosen), key=lambda m: m.email)


def sign_in_page(request: Request, sign_in: SignIn) -> Response:
    """The page for this authorize request (its query is kept in every link and form)."""
    title = f"Sign in with {sign_in.provider} (sandbox)"
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if sign_in.chosen:
        parts.append(_continue_form(request, sign_in.chosen, sign_in.scopes))
        heading = "Not you? Choose another sandbox user" if sign_in.others else ""
    else:
        heading = "Choose a sandbox user to sign in as"
    if heading:
        parts.append(f"<h2>{heading}</h2>{_choices(request, sign_in.others)}")
    if not sign_in.users:
        parts.append(f"<p>The sandbox has no {html.escape(sign_in.provider)} user.</p>")
    body = "".join(parts)
    page = f"<!doctype html><title>{html.escape(title)}</title><style>{_STYLE}</style>{body}"
    return HTMLResponse(page, headers=HEADERS)


async def posted_account(request: Request) -> str:
    """The address the person chose on the page ("" when the form carries none)."""
    form = await request.form()
    value = form.get(ACCOUNT_FIELD)
    if not isinstance(value, str) or len(value) > MAX_ADDRESS:
        return ""
    return value.strip().lower()


def _continue_form(request: Request, user: Mailbox, scopes: Sequence[str]) -> str:
    who = f"<strong>{html.escape(user.name)}</strong> ({html.escape(user.email)})"
    asked = "".join(f"<li><code>{html.escape(scope)}</code></li>" for scope in scopes)
    action = html.escape(_here(request))
    return (
        f'<p id="signing-in-as">You are signing in as {who}.</p>'
        f"<p>The application asks to:</p><ul>{asked}</ul>"
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="{ACCOUNT_FIELD}" value="{html.escape(user.email)}">'
        f'<button type="submit">Continue as {html.escape(user.name)}</button></form>'
    )


def _choices(request: Request, users: Sequence[Mailbox]) -> str:
    items = []
    for user in users:
        link = html.escape(_here(request, login_hint=user.email))
        label = html.escape(f"{user.name} ({user.email})")
        items.append(f'<li><a href="{link}">{label}</a></li>')
    return f"<ul>{''.join(items)}</ul>"


def _here(request: Request, **changes: str) -> str:
    """This authorize URL (path and query, so the same host answers), with ``changes``."""
    query = {**request.query_params, **changes}
    return f"{request.url.path}?{urlencode(query)}"
