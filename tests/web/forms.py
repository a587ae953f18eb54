"""A form as a browser would submit it, read from a page the server rendered.

Enough of HTML's form-submission rules for nudger's pages: text, hidden, date, time,
search and email inputs send their value; checkboxes and radios only when checked;
a select its selected option (else its first); fields that belong to another form
through their ``form`` attribute are left out, as are buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser

Fields = list[tuple[str, str]]


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: Fields = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or a.get("form", self.form_id) != self.form_id:
            return
        if tag == "input":
            self._input(a)
        elif tag == "select":
            self.select, self.options = a.get("name", ""), []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        if tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.options if selected] or [
                value for value, _ in self.options[:1]
            ]
            self.fields += [(self.select, value) for value in chosen]
            self.select = None

    def _input(self, a: dict[str, str]) -> None:
        kind = a.get("type", "text")
        if kind in ("submit", "button", "reset") or not a.get("name"):
            return
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))


def form_fields(page: str, form_id: str) -> Fields:
    """The fields the form ``form_id`` of ``page`` would send as it stands."""
    reader = _FormReader(form_id)
    reader.feed(page)
    return reader.fields


def changed(fields: Fields, values: Mapping[str, str | bool | list[str]]) -> Fields:
    """``fields`` with some set as a user would: a str types it, True ticks a checkbox,
    False unticks it, a list sets every value of a repeated field (the week's days)."""
    names = set(values)
    kept = [(name, value) for name, value in fields if name not in names]
    for name, value in values.items():
        if value is True:
            kept.append((name, "on"))
        elif isinstance(value, list):
            kept += [(name, item) for item in value]
        elif isinstance(value, str):
            kept.append((name, value))
    return kept
