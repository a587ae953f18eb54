"""Trusted CAs for provider HTTPS: the public roots plus ``NUDGER_CA_BUNDLE``.

Every HTTP client nudger uses (httplib2 for the Google client, requests for OAuth
and msal, httpx for Graph) takes a CA file path, so one combined file serves them
all. ``NUDGER_CA_BUNDLE`` *adds* to the public roots; it never replaces them.
"""

from __future__ import annotations

import hashlib
import tempfile
from functools import lru_cache
from pathlib import Path

import certifi
import requests


@lru_cache(maxsize=8)
def ca_bundle_path(extra: Path | None) -> str:
    """Path of a PEM file with certifi's roots and the extra CAs, if any."""
    if extra is None:
        return certifi.where()
    try:
        extra_pem = extra.read_bytes()
    except OSError as exc:
        from nudger.errors import ConfigError

        raise ConfigError(f"NUDGER_CA_BUNDLE: cannot read {extra}: {exc}") from exc
    combined = Path(certifi.where()).read_bytes() + b"\n" + extra_pem
    digest = hashlib.sha256(combined).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"nudger-ca-{digest}.pem"
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(combined)
        tmp.replace(target)
    return str(target)


class _TrustedSession(requests.Session):
    """A session whose CA bundle is not overridden by REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE.

    requests lets those environment variables win over ``Session.verify``; nudger's
    bundle already includes the public roots, so it must apply. Proxies from the
    environment still do.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None or verify is True:
            merged["verify"] = self.verify
        return merged


def requests_session(extra: Path | None) -> requests.Session:
    session = _TrustedSession()
    session.verify = ca_bundle_path(extra)
    return session
