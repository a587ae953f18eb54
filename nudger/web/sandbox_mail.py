"""Sent mail shown in full on the sandbox page: its HTML rebuilt from a safe subset.

A frame cannot grow to its content without script, so a framed mail was cut off at the
frame's height. Instead each mail's HTML part is rebuilt into the page: only the
elements and attributes of ``ALLOWED`` survive, text is escaped again, links keep an
http(s) ``href`` only, and each inline ``style`` (which the page's Content Security
Policy refuses) becomes a class whose rule the same-origin stylesheet
``/sandbox/mail.css`` carries. The page keeps nudger's strict policy and the mail reads
as it was sent, at any width.

Declarations are kept only when every character is one plain CSS values use (letters,
digits, ``#``, ``%``, quotes, commas, dots, hyphens, ``!``): no parentheses, so no
``url()`` or ``expression()``, and no braces or semicolons to break out of the rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup

MAIL_CLASS = "sandbox-mail"
"""The element each rebuilt mail sits in; the stylesheet's rules are scoped to it."""
_BLOCKS = ("p", "div", "span", "br", "hr", "blockquote", "h1", "h2", "h3", "h4")
_INLINE = ("a", "b", "strong", "i", "em", "u", "small")
_LISTS_AND_TABLES = ("ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td")
ALLOWED = frozenset((*_BLOCKS, *_INLINE, *_LISTS_AND_TABLES))
VOID = frozenset({"br", "hr"})
SKIPPED = frozenset({"head", "script", "style", "template", "noscript", "title", "svg"})
"""Dropped with everything inside them."""
_PROPERTY = re.compile(r"^-?[a-z][a-z-]*$")
_VALUE = re.compile(r"^[A-Za-z0-9 #%'\",.!-]+$")


@dataclass(frozen=True)
class RebuiltMail:
    body: Markup
    rules: dict[str, str]
    """Class name → the declarations it stands for."""


def rebuild(html: str) -> RebuiltMail:
    """The mail's body as safe markup for nudger's page, and the rules of its classes."""
    parser = _Rebuilder()
    parser.feed(html)
    parser.close()
    markup = parser.finish()  # escaped text and the elements of ALLOWED, nothing else
    return RebuiltMail(Markup(markup), dict(parser.rules))  # noqa: S704


def stylesheet(mails: Iterable[RebuiltMail]) -> str:
    """Every mail's rules, scoped to ``MAIL_CLASS``; the page's own styles stop at its edge."""
    rules = {name: body for mail in mails for name, body in mail.rules.items()}
    reset = f".{MAIL_CLASS} * {{ all: revert; }}"
    scoped = (f".{MAIL_CLASS} .{name} {{ {body} }}" for name, body in sorted(rules.items()))
    return "\n".join([reset, *scoped]) + "\n"


def declarations(style: str) -> str:
    """The declarations of an inline style that are plainly values, normalised."""
    kept = []
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if _PROPERTY.match(name) and _VALUE.match(value):
            kept.append(f"{name}: {value};")
    return " ".join(kept)


class _Rebuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        """Elements opened and not yet closed, innermost last."""
        self.rules: dict[str, str] = {}
        self.skipping = 0
        """How deep inside elements of ``SKIPPED`` the parser is."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
            return
        if self.skipping or (tag not in ALLOWED and tag != "body"):
            return
        element = "div" if tag == "body" else tag  # the body's style frames the mail
        self.out.append(f"<{element}{self._attributes(tag, dict(attrs))}>")
        if element not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping or tag not in self.open:
            return
        while self.open:
            closed = self.open.pop()
            self.out.append(f"</{'div' if closed == 'body' else closed}>")
            if closed == tag:
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(escape(data, quote=False))

    def finish(self) -> str:
        while self.open:
            self.handle_endtag(self.open[-1])
        return "".join(self.out)

    def _attributes(self, tag: str, attrs: dict[str, str | None]) -> str:
        kept = ""
        style = declarations(attrs.get("style") or "")
        if style:
            name = "m" + hashlib.sha256(style.encode()).hexdigest()[:12]
            self.rules[name] = style
            kept += f' class="{name}"'
        href = attrs.get("href") or ""
        if tag == "a" and urlsplit(href).scheme in ("http", "https"):
            kept += f' href="{escape(href, quote=True)}"'
        return kept
