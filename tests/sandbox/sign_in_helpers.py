"""A person at the emulator's sign-in page, over plain HTTP: read it, pick, continue."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urljoin, urlparse

import httpx

_SIGNING_IN_AS = re.compile(r'<p id="signing-in-as">You are signing in as (.*?)\.</p>')
_FORM = re.compile(r'<form method="post" action="([^"]+)">.*?name="account" value="([^"]+)"')
_CHOICE = re.compile(r'<li><a href="([^"]+)">([^<]+)</a></li>')


def signing_in_as(page: httpx.Response) -> str:
    """Whom the page signs in, as text: "Name (address)"."""
    found = _SIGNING_IN_AS.search(page.text)
    assert found, f"the page names nobody: {page.text}"
    return re.sub(r"</?strong>", "", html.unescape(found.group(1)))


def choices(page: httpx.Response) -> dict[str, str]:
    """The other users offered: label → absolute URL of their page."""
    return {
        html.unescape(label): urljoin(str(page.url), html.unescape(link))
        for link, label in _CHOICE.findall(page.text)
    }


def choose(page: httpx.Response, label_start: str) -> httpx.Response:
    [url] = [url for label, url in choices(page).items() if label.startswith(label_start)]
    return httpx.get(url)


def continue_as_shown(page: httpx.Response) -> dict[str, str]:
    """Press "Continue": the callback's query the emulator sends the browser to."""
    found = _FORM.search(page.text)
    assert found, "no continue form on the page"
    action, account = (html.unescape(value) for value in found.groups())
    answer = httpx.post(urljoin(str(page.url), action), data={"account": account})
    assert answer.status_code == 303, answer.text
    query = parse_qs(urlparse(answer.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}
