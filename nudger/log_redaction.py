"""Secrets out of logs that nudger does not write itself.

uvicorn's access log and the HTTP clients log request URLs: an OAuth callback's query
holds the authorization code, a one-click link's last path segment is its token. Those
loggers keep their lines with the secret parts replaced. Some libraries log whole
request or response bodies and headers at DEBUG (requests-oauthlib: the code and the
token response; msal's token cache: the authorization code; httpcore and hpack:
headers, cookies and bearer tokens included): they never log below INFO, whatever level
the root logger is at.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"
URL_LOGGERS = ("uvicorn.access", "httpx", "urllib3.connectionpool", "googleapiclient.discovery")
"""Loggers that log request URLs themselves (a logger's filters do not see its
children's records, so each is named)."""
BODY_LOGGERS = ("requests_oauthlib", "oauthlib", "msal", "httpcore", "hpack")
"""Loggers whose DEBUG records carry bodies or headers; their children inherit the level."""
_PATTERNS = (
    (re.compile(r"(/oauth/[^\s?\"']*)\?[^\s\"']*"), rf"\1?{REDACTED}"),
    (re.compile(r"(/a/\w+/)[^\s/?\"']+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"([?&](?:code|token|access_token|refresh_token|id_token|client_secret|"
            r"client_assertion|assertion|password)=)[^&\s\"']+"
        ),
        rf"\1{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """``text`` with OAuth callback queries, link tokens and secret query values hidden."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactUrls(logging.Filter):
    """Rewrites a record's message and arguments; keeps numbers (``%d``) as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        return True


def _redacted(arg: object) -> object:
    if isinstance(arg, (int, float)) or arg is None:
        return arg
    text = str(arg)
    hidden = redact(text)
    return arg if hidden == text else hidden


def install_log_redaction() -> None:
    """Idempotent: safe to call from every entry point."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrls) for f in logger.filters):
            logger.addFilter(RedactUrls())
    for name in BODY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
