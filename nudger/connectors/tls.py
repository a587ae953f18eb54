"""Trusted CAs for provider HTTPS: the public roots plus ``NUDGER_CA_BUNDLE``.

Every HTTP client nudger uses (httplib2 for the Google client, requests for OAuth
and msal, httpx for Graph) takes a CA file path, so one combined file serves them
all. ``NUDGER_CA_BUNDLE`` *adds* to the public roots; it never replaces them.

The combined file is written afresh by each process under a name nobody can guess
(``mkstemp``: created exclusively, owner-only) and removed at exit. A file already
on disk is never trusted: at a predictable path anyone could have planted their
own CA there first (issue 11, item 3).
"""

from __future__ import annotations

import atexit
import os
import ssl
import tempfile
import threading
from pathlib import Path

import certifi
import requests

from nudger.errors import ConfigError

_bundles: dict[Path, str] = {}
_contexts: dict[str, ssl.SSLContext] = {}
_lock = threading.Lock()


def ca_bundle_path(extra: Path | None) -> str:
    """Path of a PEM file with certifi's roots and the extra CAs, if any."""
    if extra is None:
        return certifi.where()
    with _lock:
        path = _bundles.get(extra)
        if path is None or not os.path.isfile(path):  # a temp cleaner may have removed it
            path = _bundles[extra] = _write_private(_combined(extra))
        return path


def tls_context(extra: Path | None) -> ssl.SSLContext:
    """A client TLS context trusting ``ca_bundle_path(extra)``, made once per process:
    loading the roots costs more than a whole incremental sync. Contexts are safe to
    share between connections and threads."""
    path = ca_bundle_path(extra)
    with _lock:
        context = _contexts.get(path)
        if context is None:
            context = _contexts[path] = ssl.create_default_context(cafile=path)
        return context


def _combined(extra: Path) -> bytes:
    try:
        extra_pem = extra.read_bytes()
    except OSError as exc:
        raise ConfigError(f"NUDGER_CA_BUNDLE: cannot read {extra}: {exc}") from exc
    return Path(certifi.where()).read_bytes() + b"\n" + extra_pem


def _write_private(pem: bytes) -> str:
    """A new owner-only file with a random name; removed when this process exits."""
    fd, name = tempfile.mkstemp(prefix="nudger-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    atexit.register(_remove, name, os.getpid())
    return name


def _remove(name: str, creator: int) -> None:
    if os.getpid() == creator:  # a forked worker exiting must not pull it from its parent
        Path(name).unlink(missing_ok=True)


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
