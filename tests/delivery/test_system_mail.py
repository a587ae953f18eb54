"""nudger's own SMTP mail never sends the operator's password without TLS.

RFC 4954 section 4 (and RFC 8314): a client must not send credentials for a
plaintext mechanism such as PLAIN over an unencrypted connection. The servers here
are real (aiosmtpd) and would take the password in the clear, so each test proves
what nudger does, not what the server allows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nudger.config import load_settings
from nudger.connectors.base import OutgoingEmail
from nudger.delivery.email import RenderedEmail, build_message
from nudger.delivery.system_mail import SystemMailer
from nudger.errors import ConfigError, ConnectorError, TransientError
from nudger.sandbox import certs
from nudger.sandbox.certs import CertFiles
from tests.smtp_server import smtp_server

PASSWORD = "s3cret-pw"
OWNER = "alex@sandbox.example"


@pytest.fixture
def tls_files(tmp_path: Path) -> CertFiles:
    """A fresh CA and a certificate for 127.0.0.1 (self-signed as far as Python knows)."""
    return certs.generate(tmp_path / "certs")


def mailer_for(url: str, ca_bundle: Path | None = None) -> SystemMailer:
    settings = load_settings(smtp_url=url, mail_from="nudger@ops.example", ca_bundle=ca_bundle)
    mailer = SystemMailer.from_settings(settings)
    assert mailer is not None
    return mailer


def message() -> OutgoingEmail:
    rendered = RenderedEmail("Please reconnect", "Hello\n", "<p>Hello</p>\n")
    now = datetime.now(UTC)
    return build_message(
        sender=OWNER, sender_name="Alex", rendered=rendered, key="1:reconnect:t", now=now
    )


def test_no_starttls_means_no_password_sent() -> None:
    with smtp_server() as inbox:  # plain SMTP that would accept AUTH PLAIN in the clear
        mailer = mailer_for(f"smtp://ops:{PASSWORD}@127.0.0.1:{inbox.port}")
        with pytest.raises(TransientError) as raised:
            mailer.send(message())
    assert inbox.seen_auth == []
    assert inbox.logins == []
    assert inbox.messages == []
    assert "NUDGER_SMTP_URL" in str(raised.value)
    assert "STARTTLS" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_starttls_authenticates_over_tls_and_delivers(tls_files: CertFiles) -> None:
    with smtp_server(starttls=tls_files) as inbox:
        url = f"smtp://ops:{PASSWORD}@127.0.0.1:{inbox.port}"
        mailer_for(url, ca_bundle=tls_files.ca_cert).send(message())
    assert [(x.username, x.password, x.encrypted) for x in inbox.logins] == [
        ("ops", PASSWORD, True)
    ]
    [delivered] = inbox.messages
    assert delivered.rcpt_tos == [OWNER]


def test_starttls_with_an_untrusted_certificate_sends_nothing(tls_files: CertFiles) -> None:
    with smtp_server(starttls=tls_files) as inbox:
        mailer = mailer_for(f"smtp://ops:{PASSWORD}@127.0.0.1:{inbox.port}")  # CA not trusted
        with pytest.raises(TransientError):
            mailer.send(message())
    assert inbox.seen_auth == []
    assert inbox.messages == []


def test_smtps_authenticates_over_implicit_tls(tls_files: CertFiles) -> None:
    with smtp_server(implicit_tls=tls_files) as inbox:
        url = f"smtps://ops:{PASSWORD}@127.0.0.1:{inbox.port}"
        mailer_for(url, ca_bundle=tls_files.ca_cert).send(message())
    assert [(x.username, x.encrypted) for x in inbox.logins] == [("ops", True)]
    assert len(inbox.messages) == 1


def test_plain_smtp_without_credentials_still_delivers() -> None:
    """A local relay on loopback with no login (the tests' and many hosts' setup)."""
    with smtp_server() as inbox:
        mailer_for(f"smtp://127.0.0.1:{inbox.port}").send(message())
    assert len(inbox.messages) == 1
    assert inbox.seen_auth == []


def test_refused_login_names_the_setting(tls_files: CertFiles) -> None:
    with smtp_server(starttls=tls_files, accept_logins=False) as inbox:
        url = f"smtp://ops:{PASSWORD}@127.0.0.1:{inbox.port}"
        with pytest.raises(ConnectorError, match="NUDGER_SMTP_URL"):
            mailer_for(url, ca_bundle=tls_files.ca_cert).send(message())
    assert inbox.messages == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:25", "smtp://", "smtps://user:pw@:465", "smtp://host:notaport"],
)
def test_malformed_smtp_url_is_refused_at_load(url: str) -> None:
    with pytest.raises(ConfigError, match="NUDGER_SMTP_URL") as raised:
        load_settings(smtp_url=url, mail_from="nudger@ops.example")
    assert "pw" not in str(raised.value)
