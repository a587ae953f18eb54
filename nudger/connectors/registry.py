"""The providers nudger knows, and how to build their flows and connectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nudger.config import Settings
from nudger.connectors.base import Connector, CredentialSaver, OAuthFlow
from nudger.errors import ConfigError


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    oauth: Callable[[Settings], OAuthFlow]
    connect: Callable[[Settings, str, CredentialSaver, str], Connector]
    configured: Callable[[Settings], bool]


def _google() -> Provider:
    from nudger.connectors import google, google_auth

    return Provider(
        name="google",
        label="Google",
        oauth=google_auth.GoogleOAuth,
        connect=lambda s, blob, save, account: google.connect(s, blob, save, account=account),
        configured=lambda s: bool(s.google_client_id),
    )


def _microsoft() -> Provider:
    from nudger.connectors import microsoft, microsoft_auth

    return Provider(
        name="microsoft",
        label="Microsoft 365",
        oauth=microsoft_auth.MicrosoftOAuth,
        connect=lambda s, blob, save, account: microsoft.connect(s, blob, save, account=account),
        configured=lambda s: bool(s.microsoft_client_id),
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
