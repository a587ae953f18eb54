"""The providers nudger knows, and how to build their flows and connectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from nudger.config import Settings
from nudger.connectors.base import Connector, CredentialSaver, OAuthFlow
from nudger.errors import ConfigError


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    oauth: Callable[[Settings], OAuthFlow]
    connect: Callable[[Settings, str, CredentialSaver, str], Connector]
    required: tuple[str, ...]
    """The settings (field names) without which nobody can connect: the app's client."""

    def missing(self, settings: Settings) -> list[str]:
        """The environment variables of ``required`` still empty, e.g. NUDGER_GOOGLE_CLIENT_ID."""
        return [f"NUDGER_{name.upper()}" for name in self.required if not _set(settings, name)]

    def configured(self, settings: Settings) -> bool:
        return not self.missing(settings)


def _set(settings: Settings, name: str) -> bool:
    value = getattr(settings, name)
    return bool(value.get_secret_value() if isinstance(value, SecretStr) else value)


def _google() -> Provider:
    from nudger.connectors import google, google_auth

    return Provider(
        name="google",
        label="Google",
        oauth=google_auth.GoogleOAuth,
        connect=lambda s, blob, save, account: google.connect(s, blob, save, account=account),
        required=("google_client_id", "google_client_secret"),
    )


def _microsoft() -> Provider:
    from nudger.connectors import microsoft, microsoft_auth

    return Provider(
        name="microsoft",
        label="Microsoft 365",
        oauth=microsoft_auth.MicrosoftOAuth,
        connect=lambda s, blob, save, account: microsoft.connect(s, blob, save, account=account),
        required=("microsoft_client_id", "microsoft_client_secret"),
    )


_FACTORIES: dict[str, Callable[[], Provider]] = {"google": _google, "microsoft": _microsoft}


def register(name: str, factory: Callable[[], Provider]) -> None:
    _FACTORIES[name] = factory


def provider(name: str) -> Provider:
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise ConfigError(
            f"unknown provider {name!r}; known: {', '.join(sorted(_FACTORIES))}"
        ) from None


def provider_names() -> list[str]:
    return sorted(_FACTORIES)
