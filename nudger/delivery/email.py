"""Nudge emails and hold text: Jinja2 template trios rendered into a finished MIME message.

Each email kind is three files in ``templates/email/``: ``<kind>.subject.txt``,
``<kind>.txt`` and ``<kind>.html``. Templates use ``StrictUndefined`` so a missing
variable fails the render instead of mailing a sentence with a hole in it; only the
HTML part is autoescaped (contact names come from other people's calendars).

The message goes from the owner's own mailbox to the owner. Its Message-ID is derived
from the outbox key, so rendering the same decision twice yields the same message.
"""

from __future__ import annotations

import email.policy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache, wraps
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    Undefined,
    select_autoescape,
)

from nudger.connectors.addresses import plain_name
from nudger.connectors.base import OutgoingEmail
from nudger.errors import ConfigError
from nudger.resources import resource_dir
from nudger.wording import display_name, greeting_name, role_words, status_words

KINDS = (
    "neglected",
    "fading",
    "lapsed_one_on_one",
    "missing_one_on_one",
    "repair",
    "thanks",
    "thanks_group",
    "anniversary",
    "work_anniversary",
    "welcome_back",
    "daily_step",
    "digest",
    "reconnect",
)
"""Email kinds with a template trio; anything else is refused before rendering."""

ACTION_LABELS = {
    "book": "Book time",
    "invite": "Invite them",
    "talked": "We already talked",
    "snooze": "Snooze 2 weeks",
    "mute": "Mute",
    "crunch": "Busy? Pause the small stuff for 2 weeks",
}
"""The one-click actions shown as buttons, in display order (most useful first)."""

STATUS_ORDER = (
    "neglected",
    "lapsed_one_on_one",
    "missing_one_on_one",
    "fading",
    "new",
    "healthy",
    "weak_tie",
)
"""Column order of the digest's health table: what needs attention comes first."""

MESSAGE_ID_DOMAIN = "nudger.invalid"


@dataclass(frozen=True)
class NudgeContext:
    """Everything a single-contact nudge (or a hold) says about one relationship."""

    owner_name: str
    contact_name: str | None
    contact_email: str
    status: str
    role: str | None
    reasons: tuple[str, ...]
    last_interaction: datetime | None
    cadence_days: float | None
    links: Mapping[str, str]
    """Action → URL; actions: snooze, mute, talked, book, reconnect. Absent means no button."""
    time_zone: str
    """The owner's IANA zone; dates are written in it."""
    step: str = ""
    """A daily step's small step; empty for other nudges."""
    zone_note: str | None = None
    """The contact's time zone in words, when it is known and differs from the owner's."""
    proposals: tuple[tuple[str, str], ...] = ()
    """(time in words, one-click link) of times free for both: a rule's ``invite: propose``."""


@dataclass(frozen=True)
class DigestItem:
    contact_name: str | None
    contact_email: str
    status: str
    role: str | None
    reasons: tuple[str, ...]
    links: Mapping[str, str]


@dataclass(frozen=True)
class DigestContext:
    owner_name: str
    time_zone: str
    counts_by_role: Mapping[str, Mapping[str, int]]
    """Role → status → number of contacts."""
    items: tuple[DigestItem, ...]
    """The top suggestions, most important first."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


# --- wording helpers (also exposed to the templates) --------------------------

_SUGGESTIONS: Mapping[tuple[str, str | None], str] = {
    (
        "neglected",
        None,
    ): "A two-line check-in note is plenty: ask how things are going on their side.",
    ("neglected", "mentor"): (
        "Send a short thank-you and mention one thing you have used from your last conversation."
    ),
    ("neglected", "manager"): "Propose a short coffee to catch up on priorities.",
    ("neglected", "direct_report"): "Put 30 minutes on the calendar this week to catch up.",
    ("fading", None): "Propose a 20-minute coffee in the next couple of weeks.",
    (
        "fading",
        "peer",
    ): "Propose a 20-minute coffee to compare notes on what each of you is working on.",
    ("fading", "external"): "A quick note sharing something useful to them keeps the thread warm.",
    (
        "lapsed_one_on_one",
        None,
    ): "Rebook the one-on-one; even 25 minutes this week restarts the rhythm.",
    ("missing_one_on_one", None): (
        "Propose a recurring 30-minute one-on-one; weekly works well for a direct report."
    ),
    ("new", None): "A short thank-you after your first meetings helps the relationship start well.",
    ("healthy", None): "Nothing needed; a quick thank-you for recent work is always welcome.",
    ("weak_tie", None): "No action needed; you mostly meet in large groups.",
}


def suggestion_for(status: str, role: str | None) -> str:
    """The one micro-action to suggest: role-specific where it helps, else per status."""
    found = _SUGGESTIONS.get((status, role)) or _SUGGESTIONS.get((status, None))
    return found or "A short check-in note is a good way to stay in touch."


def long_date(moment: datetime, time_zone: str) -> str:
    """``Tuesday 14 October`` in the owner's zone: the day they will remember."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return f"{local:%A} {local.day} {local:%B}"


def cadence_words(days: float) -> str:
    """A typical gap in plain words: ``about weekly``, ``about monthly``, ``every ~9 days``."""
    named = (
        (0.5, 1.5, "about daily"),
        (6.0, 8.0, "about weekly"),
        (13.0, 16.0, "about every two weeks"),
        (26.0, 35.0, "about monthly"),
        (80.0, 100.0, "about quarterly"),
    )
    for low, high, words in named:
        if low <= days <= high:
            return words
    if days < 60:
        return f"every ~{round(days)} days"
    return f"every ~{round(days / 30.4)} months"


def as_sentence(text: str) -> str:
    """A reason as the analysis words it ("last held 5 weeks ago") made a sentence."""
    text = text.strip()
    if not text:
        return text
    end = "" if text[-1] in ".!?" else "."
    return f"{text[0].upper()}{text[1:]}{end}"


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else full_name


def evidence_sentence(
    last_interaction: datetime | None, cadence_days: float | None, time_zone: str
) -> str:
    """The calendar facts behind a nudge, in one sentence ("" when there are none)."""
    usual = f"you usually meet {cadence_words(cadence_days)}" if cadence_days else ""
    if last_interaction is None:
        return f"{usual[0].upper()}{usual[1:]}." if usual else ""
    last = f"You last met on {long_date(last_interaction, time_zone)}"
    return f"{last}, and {usual}." if usual else f"{last}."


def action_buttons(links: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, URL) for each known one-click action that has a URL, in display order."""
    return [(label, links[action]) for action, label in ACTION_LABELS.items() if links.get(action)]


def status_columns(counts_by_role: Mapping[str, Mapping[str, int]]) -> list[str]:
    """The statuses that occur anywhere in the digest table, in ``STATUS_ORDER``."""
    present = {status for counts in counts_by_role.values() for status in counts}
    known = [status for status in STATUS_ORDER if status in present]
    return known + sorted(present - set(STATUS_ORDER))


# --- rendering ----------------------------------------------------------------


def template_dir() -> Path:
    return resource_dir("templates") / "email"


def _strict(function: Callable[..., object]) -> Callable[..., object]:
    """Make a template helper fail on a missing variable even when it would not use it."""

    @wraps(function)
    def checked(*args: object) -> object:
        for arg in args:
            if isinstance(arg, Undefined):
                arg._fail_with_undefined_error()
        return function(*args)

    return checked


@cache
def _environment(folder: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    helpers = (suggestion_for, display_name, action_buttons, status_columns, evidence_sentence)
    filters = (long_date, cadence_words, role_words, status_words, first_name, as_sentence)
    env.globals.update({helper.__name__: _strict(helper) for helper in helpers})
    env.filters.update({helper.__name__: _strict(helper) for helper in filters})
    return env


def _namespace(context: NudgeContext | DigestContext | Mapping[str, object]) -> dict[str, object]:
    """Template variables: a context dataclass's fields, or a mapping as given."""
    if is_dataclass(context) and not isinstance(context, type):
        return {field.name: getattr(context, field.name) for field in fields(context)}
    assert isinstance(context, Mapping)
    return dict(context)


def _render(name: str, namespace: Mapping[str, object]) -> str:
    folder = template_dir()
    try:
        template = _environment(folder).get_template(name)
    except TemplateNotFound as exc:
        raise ConfigError(f"email template {name!r} is missing from {folder}") from exc
    return template.render(namespace)


def _one_line(text: str) -> str:
    """Subjects and titles are a single line, whatever the template's whitespace."""
    return " ".join(text.split())


def render_email(
    kind: str, context: NudgeContext | DigestContext | Mapping[str, object]
) -> RenderedEmail:
    """Render one email kind's subject, text and HTML with the same variables."""
    if kind not in KINDS:
        raise ConfigError(
            f"unknown email kind {kind!r}: no templates for it in {template_dir()} "
            f"(known kinds: {', '.join(KINDS)})"
        )
    namespace = _namespace(context)
    return RenderedEmail(
        subject=_one_line(_render(f"{kind}.subject.txt", namespace)),
        text=_render(f"{kind}.txt", namespace),
        html=_render(f"{kind}.html", namespace),
    )


def render_hold(context: NudgeContext) -> tuple[str, str]:
    """The "relationship time" hold's (title, description), plain text. Its only link is
    "invite", which replaces the description before anyone else sees it."""
    namespace = _namespace(context)
    title = _one_line(_render("hold.title.txt", namespace))
    description = _render("hold.description.txt", namespace).strip() + "\n"
    return title, description


def render_invitation(
    owner: tuple[str | None, str], contact: tuple[str | None, str]
) -> tuple[str, str]:
    """The (title, description) the contact sees when invited, from (name, address) of the
    owner and of the contact: no reasons and no links, which are the owner's alone."""
    namespace = {
        "owner_first": greeting_name(*owner),
        "owner_signature": display_name(*owner),
        "contact_first": greeting_name(*contact),
    }
    title = _one_line(_render("invite.title.txt", namespace))
    return title, _render("invite.description.txt", namespace).strip() + "\n"


# --- the MIME message ---------------------------------------------------------


def message_id_for(key: str) -> str:
    """A Message-ID fixed by the outbox key, so a retried render is the same message."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def build_message(
    *,
    sender: str,
    sender_name: str | None,
    rendered: RenderedEmail,
    key: str,
    now: datetime,
    from_address: str | None = None,
) -> OutgoingEmail:
    """A multipart/alternative message (text, then HTML) from the owner to the owner.

    ``from_address`` is for nudger's own service mail (the reconnect request), which
    cannot go out through a mailbox whose access was revoked.
    """
    if now.tzinfo is None:
        raise ValueError("build_message needs an aware 'now' for the Date header")
    message = EmailMessage(policy=email.policy.SMTP)
    # The owner's name came from a provider; a line break in it must not end the header.
    owner = str(Address(display_name=plain_name(sender_name) or "", addr_spec=sender))
    message_id = message_id_for(key)
    message["From"] = from_address or owner
    message["To"] = owner
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    # Tell auto-responders (out-of-office replies, Exchange) to stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Nudger-Key"] = key
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return OutgoingEmail(
        sender=from_address or sender,
        to=sender,
        subject=rendered.subject,
        message_id=message_id,
        mime=message.as_bytes(),
    )
