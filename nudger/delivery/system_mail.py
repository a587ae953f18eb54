"""nudger's own service mail over SMTP: the one email a revoked mailbox cannot send.

Nudges go out from the owner's own mailbox. When the owner's grant is revoked that
path is gone, so the request to reconnect travels through the operator's SMTP
server (``NUDGER_SMTP_URL``). Like every send, it is never retried once its fate
is unknown.

Credentials only ever travel over TLS (RFC 8314; RFC 4954 section 4 forbids a
plaintext mechanism such as PLAIN without it): ``smtps://`` is TLS from the first
byte, and over ``smtp://`` STARTTLS is required whenever a login is configured. A
server that does not offer STARTTLS (or an attacker who strips it) gets no AUTH
command; the message waits for the next pass. Without a login, STARTTLS is used
when offered and plain SMTP (a local relay) is accepted.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from nudger.config import Settings
from nudger.connectors.base import OutgoingEmail
from nudger.connectors.tls import ca_bundle_path
from nudger.errors import ConfigError, ConnectorError, OutcomeUnknown, TransientError

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SystemMailer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    sender: str
    ca_bundle: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SystemMailer | None:
        url = settings.smtp_url.get_secret_value()
        if not url:
            return None
        if not settings.mail_from:
            raise ConfigError("NUDGER_MAIL_FROM: required when NUDGER_SMTP_URL is set")
        parts = urlsplit(url)  # its shape was checked when the settings were loaded
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "",
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=settings.mail_from,
            ca_bundle=ca_bundle_path(settings.ca_bundle),
        )

    def send(self, email: OutgoingEmail) -> None:
        """Hand one message to the SMTP server; see the module docstring on failures."""
        with self._session() as client:
            try:
                client.sendmail(self.sender, [email.to], email.mime)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
                raise ConnectorError(f"the SMTP server refused the message: {exc}") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise OutcomeUnknown(f"SMTP send outcome unknown: {type(exc).__name__}") from None

    def _session(self) -> smtplib.SMTP:
        """A connected client, encrypted where it must be and logged in if configured.

        Everything that fails here failed before the message left: nothing was sent.
        """
        context = ssl.create_default_context(cafile=self.ca_bundle)
        try:
            client = self._connect(context)
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"cannot reach the SMTP server: {type(exc).__name__}") from None
        try:
            if self.username:
                self._login(client)
        except BaseException:
            client.close()
            raise
        return client

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        try:
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
        except BaseException:
            client.close()
            raise
        return client

    def _login(self, client: smtplib.SMTP) -> None:
        if not isinstance(client.sock, ssl.SSLSocket):
            raise TransientError(
                f"NUDGER_SMTP_URL: {self.host}:{self.port} did not offer STARTTLS, and nudger "
                "sends SMTP credentials only over TLS; enable STARTTLS on the server or use "
                "smtps://"
            )
        try:
            client.login(self.username or "", self.password or "")
        except smtplib.SMTPAuthenticationError:
            raise ConnectorError("NUDGER_SMTP_URL: the SMTP server refused the login") from None
        except smtplib.SMTPNotSupportedError:
            raise ConnectorError(
                "NUDGER_SMTP_URL: a login is configured but the SMTP server offers no AUTH"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"SMTP login failed: {type(exc).__name__}") from None
