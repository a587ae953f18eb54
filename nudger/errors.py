"""nudger's one exception tree.

Each provider maps its own errors into these classes in exactly one function
(``connectors/google.py``, ``connectors/microsoft.py``). The ``permanent`` flag is
what the layers above turn into policy: a permanent error stops work for that
account, a transient one is retried later.
"""

from __future__ import annotations


class NudgerError(Exception):
    """Base of every error nudger raises on purpose."""

    permanent = True


class ConfigError(NudgerError):
    """Settings, key material or files that nudger cannot start with."""


class RuleError(NudgerError):
    """A rules file that does not parse or validate; names the file, rule and key."""


class CryptoError(NudgerError):
    """Stored credentials that no configured key can decrypt (wrong key or tampering)."""


class ConnectorError(NudgerError):
    """Raised by a connector when a provider call fails."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UnknownAccount(ConnectorError):
    """No connected account has this address (a mistyped or removed ``--account``)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"no connected account {email}")
        self.email = email


class AuthRevoked(ConnectorError):
    """The grant is gone (``invalid_grant``, ``interaction_required``): reconnect needed."""


class MissingScopes(ConnectorError):
    """The user did not grant every scope the enabled features need; ``advice`` says what
    became of the partial grant, where there is something to say."""

    def __init__(self, missing: list[str], advice: str = "") -> None:
        message = "missing permissions: " + ", ".join(missing)
        super().__init__(f"{message}. {advice}" if advice else message)
        self.missing = missing


class IdentityConflict(ConnectorError):
    """A sign-in whose address belongs to an account of a different provider user (the
    address moved to someone else): refused, so nobody takes over another's account."""


class UnusableAddress(ConnectorError):
    """A sign-in whose address could not be mailed safely (control characters, no domain):
    refused at the boundary, never stored."""


class OAuthStateError(ConnectorError):
    """An OAuth callback whose state is unknown, expired or already used."""


class TransientError(ConnectorError):
    """A failure that may succeed later (5xx, network); ``retry_after`` in seconds when
    the provider said when (a 503 may carry Retry-After too)."""

    permanent = False

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The provider asked us to slow down (429, 403 rate-limit reasons)."""


class SyncCursorExpired(ConnectorError):
    """The stored sync token / delta link is no longer valid (HTTP 410): resync in full."""

    permanent = False


class NotFound(ConnectorError):
    """The provider has no such object (404/410 on a single resource)."""


class OutcomeUnknown(ConnectorError):
    """A non-idempotent call (sending mail) whose fate is unknown: never retry it."""
