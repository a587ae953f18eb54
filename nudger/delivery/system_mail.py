"""nudger's own service mail over SMTP: the one email a revoked mailbox cannot send.

Nudges go out from the owner's own mailbox. When the owner's grant is revoked that
path is gone, so the request to reconnect travels through the operator's SMTP
server (``NUDGER_SMTP_URL``). Like every send, it is never retried once its fate
is unknown.
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
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("NUDGER_SMTP_URL: expected smtp://[user:password@]host[:port]")
        if not settings.mail_from:
            raise ConfigError("NUDGER_MAIL_FROM: required when NUDGER_SMTP_URL is set")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=settings.mail_from,
            ca_bundle=ca_bundle_path(settings.ca_bundle),
        )

    def send(self, email: OutgoingEmail) -> None:
        """Hand one message to the SMTP server; see the module docstring on failures."""
        context = ssl.create_default_context(cafile=self.ca_bundle)
        try:
            client = self._connect(context)
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"cannot reach the SMTP server: {type(exc).__name__}") from None
        try:
            with client:
                if self.username:
                    client.login(self.username, self.password or "")
                client.sendmail(self.sender, [email.to], email.mime)
        except smtplib.SMTPAuthenticationError:
            raise ConnectorError("NUDGER_SMTP_URL: the SMTP server refused the login") from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise ConnectorError(f"the SMTP server refused the message: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise OutcomeUnknown(f"SMTP send outcome unknown: {type(exc).__name__}") from None

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        return client
