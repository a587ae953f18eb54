"""Signed one-click links: one action, one contact, one account, expiring.

Delivery puts them in emails; the web's ``/a/{action}/{token}`` pages read them
(``nudger.web.actions``). They live here, below both, so delivery never imports web.

The token is the capability, so it is signed (itsdangerous, HMAC-SHA256) with a
salt per action: a snooze token cannot be replayed as a mute. GET on a link only
shows a confirmation page (mail scanners pre-fetch links); POST acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from nudger.config import Settings
from nudger.crypto import ACTION_LINK_KEY, TokenCipher, derived_key
from nudger.errors import NudgerError

ACTIONS = ("snooze", "mute", "talked", "book", "crunch", "invite")
LINK_TTL = timedelta(days=21)


class BadLink(NudgerError):
    """A forged, tampered, expired or mis-scoped action link."""


@dataclass(frozen=True)
class ActionLink:
    action: str
    account_id: int
    contact_email: str


def signing_key(settings: Settings, cipher: TokenCipher) -> bytes:
    """The links' own key (see ``nudger.crypto``)."""
    return derived_key(settings, cipher, ACTION_LINK_KEY)


def _serializer(key: bytes, action: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=f"nudger-action-{action}")


def make_token(key: bytes, link: ActionLink) -> str:
    return _serializer(key, link.action).dumps([link.account_id, link.contact_email])


def action_url(base_url: str, key: bytes, link: ActionLink) -> str:
    return f"{base_url}/a/{link.action}/{make_token(key, link)}"


def read_token(key: bytes, action: str, token: str) -> ActionLink:
    if action not in ACTIONS:
        raise BadLink(f"unknown action {action!r}")
    try:
        account_id, contact = _serializer(key, action).loads(
            token, max_age=int(LINK_TTL.total_seconds())
        )
    except SignatureExpired:
        raise BadLink("this link has expired") from None
    except (BadSignature, ValueError, TypeError):
        raise BadLink("this link is not valid") from None
    return ActionLink(action, int(account_id), str(contact))
