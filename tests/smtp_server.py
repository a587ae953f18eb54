"""A real SMTP server for tests (aiosmtpd): keeps what it receives and every AUTH attempt.

It can speak plain SMTP, offer STARTTLS (RFC 3207) or run on implicit TLS (RFC 8314),
with or without authentication. ``auth_require_tls`` is left off on purpose: such a
server would accept a password in the clear, so a test proves that nudger, not the
server, refuses to send one.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from nudger.sandbox.certs import CertFiles


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    encrypted: bool
    """Whether the connection was TLS when the credentials arrived."""


@dataclass
class Inbox:
    """The server's record: delivered envelopes, AUTH commands seen, logins received.

    (No attribute may start with ``auth_``: aiosmtpd takes those for AUTH mechanisms.)
    """

    port: int = 0
    accept_logins: bool = True
    messages: list[Envelope] = field(default_factory=list)
    seen_auth: list[str] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        encrypted = server.transport is not None and bool(
            server.transport.get_extra_info("ssl_object")
        )
        self.logins.append(Login(data.login.decode(), data.password.decode(), encrypted))
        # handled=False: aiosmtpd itself answers (235, or 535 for a refusal).
        return AuthResult(success=self.accept_logins, handled=False)


class _RecordingSMTP(SMTP):
    """Notes every AUTH command, whatever the server then makes of it."""

    async def smtp_AUTH(self, arg: str) -> None:
        inbox = self.event_handler
        assert isinstance(inbox, Inbox)
        inbox.seen_auth.append(arg)
        await super().smtp_AUTH(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _RecordingSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as probe:  # aiosmtpd cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_context(certs: CertFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    return context


@contextmanager
def smtp_server(
    *,
    starttls: CertFiles | None = None,
    implicit_tls: CertFiles | None = None,
    accept_logins: bool = True,
) -> Iterator[Inbox]:
    """A running server on 127.0.0.1: plain, with STARTTLS, or on implicit TLS."""
    inbox = Inbox(free_port(), accept_logins=accept_logins)
    options: dict[str, Any] = {"authenticator": inbox.authenticate, "auth_require_tls": False}
    if starttls is not None:
        options.update(tls_context=server_context(starttls), require_starttls=True)
    if implicit_tls is not None:
        options.update(ssl_context=server_context(implicit_tls))
    controller = _Controller(inbox, hostname="127.0.0.1", port=inbox.port, **options)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
