"""Security headers on every response: what a page may load, who may frame it, what
the browser may keep.

The Content Security Policy allows exactly what nudger's pages use: stylesheets of its
own and forms that post back to nudger; no script, image, font or frame at all, so
injected markup can neither run nor phone home (OWASP Secure Headers Project). A
route that needs more sets its own policy, which wins.
Nothing nudger serves may be cached: pages name the user's contacts, and a one-click
link's page is as good as its token.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = {
    "default-src": "'none'",
    "style-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}
HSTS = "max-age=31536000; includeSubDomains"
"""RFC 6797; sent only when nudger is served over https (browsers ignore it on http)."""


def content_security_policy(**changes: str) -> str:
    """nudger's policy with some directives changed (``frame_src="'self'"``)."""
    directives = POLICY | {name.replace("_", "-"): value for name, value in changes.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeaders:
    """Pure ASGI middleware: adds each header the response has not set itself."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.defaults = {
            "Content-Security-Policy": content_security_policy(),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            **({"Strict-Transport-Security": HSTS} if https else {}),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
