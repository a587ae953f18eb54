"""Checks on an OpenID Connect ID token received straight from a token endpoint.

The token comes back over TLS from the provider's token endpoint, in exchange for our
code, PKCE verifier and client secret, so TLS proves where it came from and its
signature need not be checked (OpenID Connect Core 1.0 §3.1.3.7, step 6; msal, since
1.38, leaves every check to the application). Issuer, audience and expiry still are
(steps 2, 3 and 9): they say the token is about a sign-in to this app, now.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

from nudger.errors import ConnectorError

CLOCK_SKEW = 120
"""Seconds of clock difference tolerated on ``exp``, as msal and google-auth allow."""


def check_claims(
    claims: Mapping[str, Any], *, issuers: Collection[str], audience: str, provider: str
) -> None:
    """Raise ``ConnectorError`` naming the claim when the token is not for this sign-in."""
    problem = _problem(claims, issuers, audience)
    if problem:
        raise ConnectorError(f"{provider} returned an unusable ID token: {problem}")


def _problem(claims: Mapping[str, Any], issuers: Collection[str], audience: str) -> str:
    if claims.get("iss") not in issuers:
        return f"issuer {claims.get('iss')!r} is not {' or '.join(sorted(issuers))}"
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        return "it was issued to another application (aud)"
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp + CLOCK_SKEW < time.time():
        return "it has expired (exp)"
    if not claims.get("sub"):
        return "it names no subject (sub)"
    return ""
