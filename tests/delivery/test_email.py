"""Nudge emails: every kind renders into a well-formed, safe, self-addressed message."""

from __future__ import annotations

import email.policy
import html
import re
from dataclasses import asdict, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from jinja2 import UndefinedError

from nudger.connectors.base import OutgoingEmail
from nudger.delivery.email import (
    KINDS,
    DigestContext,
    DigestItem,
    NudgeContext,
    RenderedEmail,
    build_message,
    cadence_words,
    render_email,
    render_hold,
    suggestion_for,
)
from nudger.errors import ConfigError

NOW = datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
ALL_LINKS = {
    "snooze": "https://nudger.example/a/snooze?t=abc&x=1",
    "mute": "https://nudger.example/a/mute?t=def",
    "talked": "https://nudger.example/a/talked?t=ghi",
    "book": "https://nudger.example/a/book?t=jkl",
}
NUDGE_KINDS = ("neglected", "fading", "lapsed_one_on_one", "missing_one_on_one")


def a_nudge(**changes: object) -> NudgeContext:
    base = NudgeContext(
        owner_name="Alex Morgan",
        contact_name="Priya Shah",
        contact_email="priya@example.com",
        status="neglected",
        role="peer",
        reasons=("No meeting in 41 days", "You used to meet about weekly"),
        last_interaction=datetime(2025, 10, 14, 10, 0, tzinfo=UTC),
        cadence_days=7.0,
        links=ALL_LINKS,
        time_zone="Europe/London",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def a_digest(**changes: object) -> DigestContext:
    base = DigestContext(
        owner_name="Alex Morgan",
        time_zone="Europe/London",
        counts_by_role={"direct_report": {"healthy": 3, "lapsed_one_on_one": 1}},
        items=(
            DigestItem(
                contact_name="Sam Lee",
                contact_email="sam@example.com",
                status="lapsed_one_on_one",
                role="direct_report",
                reasons=("Last three one-on-ones were cancelled",),
                links={"snooze": ALL_LINKS["snooze"]},
            ),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def a_reconnect() -> dict[str, object]:
    return {
        "owner_name": "Alex Morgan",
        "time_zone": "UTC",
        "links": {"reconnect": "https://nudger.example/connect/google"},
    }


def rendered_for(kind: str) -> RenderedEmail:
    if kind == "digest":
        return render_email(kind, a_digest())
    if kind == "reconnect":
        return render_email(kind, a_reconnect())
    return render_email(kind, a_nudge(status=kind))


def sent(
    rendered: RenderedEmail, key: str = "acct1:priya@example.com:neglected:2025-W47"
) -> OutgoingEmail:
    return build_message(
        sender="alex@example.com", sender_name="Alex Morgan", rendered=rendered, key=key, now=NOW
    )


def parsed(mime: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(mime)
    assert isinstance(message, EmailMessage)
    return message


def linked_urls(markup: str) -> set[str]:
    return {html.unescape(url) for url in re.findall(r'href="([^"]*)"', markup)}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_into_multipart_alternative_text_then_html(kind: str) -> None:
    outgoing = sent(rendered_for(kind))
    message = parsed(outgoing.mime)

    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert message["Subject"] == outgoing.subject
    assert outgoing.subject
    assert "\n" not in outgoing.subject


@pytest.mark.parametrize("kind", KINDS)
def test_message_goes_from_the_owner_to_the_owner_with_auto_headers(kind: str) -> None:
    outgoing = sent(rendered_for(kind), key="k-1")
    message = parsed(outgoing.mime)

    assert message["From"].addresses[0].addr_spec == "alex@example.com"
    assert message["To"].addresses[0].addr_spec == "alex@example.com"
    assert message["From"].addresses[0].display_name == "Alex Morgan"
    assert message["Date"].datetime == NOW
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["X-Nudger-Key"] == "k-1"
    assert message["Message-ID"] == outgoing.message_id
    assert (outgoing.sender, outgoing.to) == ("alex@example.com", "alex@example.com")


def test_message_id_is_fixed_by_the_outbox_key() -> None:
    rendered = rendered_for("neglected")

    first, again, other = sent(rendered, "key-a"), sent(rendered, "key-a"), sent(rendered, "key-b")

    assert first.message_id == again.message_id
    assert first.message_id != other.message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@nudger\.invalid>", first.message_id)


def test_non_ascii_names_survive_the_round_trip() -> None:
    rendered = render_email("neglected", a_nudge(contact_name="Zoë Ångström"))

    message = parsed(
        build_message(
            sender="alex@example.com",
            sender_name="Ålex Møller",
            rendered=rendered,
            key="k",
            now=NOW,
        ).mime
    )

    text, markup = (part.get_content() for part in message.iter_parts())
    assert "Zoë Ångström" in message["Subject"]
    assert "Zoë Ångström" in text
    assert "Zoë Ångström" in markup
    assert message["From"].addresses[0].display_name == "Ålex Møller"


def test_a_line_break_in_the_owners_name_cannot_add_a_header() -> None:
    message = parsed(
        build_message(
            sender="alex@example.com",
            sender_name="Alex\r\nBcc: x@example.net",
            rendered=rendered_for("neglected"),
            key="k",
            now=NOW,
        ).mime
    )
    assert message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == "alex@example.com"
    assert message["To"].addresses[0].display_name == "Alex Bcc: x@example.net"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        build_message(
            sender="a@example.com",
            sender_name=None,
            rendered=rendered_for("neglected"),
            key="k",
            now=NOW.replace(tzinfo=None),
        )


def test_a_missing_template_variable_is_an_error_not_blank_text() -> None:
    context = asdict(a_nudge())
    del context["contact_email"]

    with pytest.raises(UndefinedError, match="contact_email"):
        render_email("neglected", context)


def test_reconnect_without_its_link_is_an_error() -> None:
    context = {**a_reconnect(), "links": {}}

    with pytest.raises(UndefinedError):
        render_email("reconnect", context)


def test_unknown_kind_names_the_kind_and_the_template_folder() -> None:
    with pytest.raises(ConfigError, match=r"'birthday'.*templates[/\\]email"):
        render_email("birthday", a_nudge())


def test_contact_name_is_escaped_in_html_only() -> None:
    rendered = render_email("neglected", a_nudge(contact_name="Eve <script>alert(1)</script>"))

    assert "<script>" not in rendered.html
    assert "Eve &lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "Eve <script>alert(1)</script>" in rendered.text


def test_digest_escapes_names_and_reasons() -> None:
    item = replace(a_digest().items[0], contact_name="<b>Sam</b>", reasons=("<i>odd</i>",))

    rendered = render_email("digest", a_digest(items=(item,)))

    assert "<b>Sam</b>" not in rendered.html
    assert "<i>odd</i>" not in rendered.html


@pytest.mark.parametrize("kind", KINDS)
def test_html_loads_nothing_remote_and_links_only_given_urls(kind: str) -> None:
    markup = rendered_for(kind).html
    given = set(ALL_LINKS.values()) | {"https://nudger.example/connect/google"}

    for forbidden in ("<img", "<link", "src=", "url(", "@import", "<style", "<script"):
        assert forbidden not in markup.lower()
    assert linked_urls(markup) <= given
    http_mentions = {html.unescape(u) for u in re.findall(r"https?://[^\"'\s<]+", markup)}
    assert http_mentions <= given


@pytest.mark.parametrize("kind", NUDGE_KINDS)
def test_only_the_links_given_appear(kind: str) -> None:
    only_snooze = {"snooze": ALL_LINKS["snooze"]}

    rendered = render_email(kind, a_nudge(status=kind, links=only_snooze))

    assert linked_urls(rendered.html) == {ALL_LINKS["snooze"]}
    assert "Snooze 2 weeks" in rendered.html
    assert "Snooze 2 weeks" in rendered.text
    assert "Mute" not in rendered.html
    assert "Book time" not in rendered.text
    assert ALL_LINKS["book"] not in rendered.text


def test_all_given_links_become_buttons_in_html_and_lines_in_text() -> None:
    rendered = render_email("neglected", a_nudge())

    assert linked_urls(rendered.html) == set(ALL_LINKS.values())
    for url in ALL_LINKS.values():
        assert url in rendered.text


def test_no_links_means_no_buttons() -> None:
    rendered = render_email("fading", a_nudge(status="fading", links={}))

    assert "<a " not in rendered.html
    assert "http" not in rendered.text


@pytest.mark.parametrize("kind", NUDGE_KINDS)
def test_reasons_and_suggestion_appear_in_both_parts(kind: str) -> None:
    context = a_nudge(status=kind, role="direct_report")

    rendered = render_email(kind, context)

    for part in (rendered.text, rendered.html):
        for reason in context.reasons:
            assert reason in part
        assert suggestion_for(kind, "direct_report") in part
        assert "Priya Shah" in part


def test_digest_lists_counts_by_role_and_the_top_items() -> None:
    rendered = render_email("digest", a_digest())

    for part in (rendered.text, rendered.html):
        assert "Direct report" in part
        assert "Sam Lee" in part
        assert "Last three one-on-ones were cancelled" in part
    assert "1 worth a moment" in rendered.subject


def test_empty_digest_says_all_is_well() -> None:
    rendered = render_email("digest", a_digest(counts_by_role={}, items=()))

    assert "good shape" in rendered.subject
    assert "Nothing needs you this week" in rendered.text


def test_dates_are_written_in_words_in_the_owners_zone() -> None:
    """The evidence sentence: what a nudge that came without reasons says instead."""
    late_evening_utc = datetime(2025, 10, 14, 23, 30, tzinfo=UTC)

    in_london = render_email("neglected", a_nudge(last_interaction=late_evening_utc, reasons=()))
    in_tokyo = render_email(
        "neglected",
        a_nudge(last_interaction=late_evening_utc, time_zone="Asia/Tokyo", reasons=()),
    )

    assert "Wednesday 15 October" in in_london.text  # 00:30 BST
    assert "Wednesday 15 October" in in_tokyo.text
    in_new_york = render_email(
        "neglected",
        a_nudge(last_interaction=late_evening_utc, time_zone="America/New_York", reasons=()),
    )
    assert "Tuesday 14 October" in in_new_york.text


def test_missing_history_leaves_out_the_evidence_sentence() -> None:
    rendered = render_email(
        "missing_one_on_one",
        a_nudge(status="missing_one_on_one", last_interaction=None, cadence_days=None),
    )

    assert "You last met" not in rendered.text
    assert "usually meet" not in rendered.text


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (7.0, "about weekly"),
        (6.5, "about weekly"),
        (30.0, "about monthly"),
        (9.2, "every ~9 days"),
        (14.0, "about every two weeks"),
        (91.0, "about quarterly"),
    ],
)
def test_cadence_is_written_in_plain_words(days: float, words: str) -> None:
    assert cadence_words(days) == words


def test_cadence_appears_in_an_email_without_reasons() -> None:
    rendered = render_email("neglected", a_nudge(cadence_days=9.2, reasons=()))

    assert "every ~9 days" in rendered.text
    assert "every ~9 days" in rendered.html


def test_hold_title_says_what_and_with_whom() -> None:
    title, _ = render_hold(a_nudge())

    assert title == "Relationship time: Priya Shah"


def test_hold_title_falls_back_to_the_address() -> None:
    title, _ = render_hold(a_nudge(contact_name=None))

    assert title == "Relationship time: priya@example.com"


def test_hold_description_gives_the_reasons_and_an_action_but_no_links() -> None:
    context = a_nudge()

    _, description = render_hold(context)

    for reason in context.reasons:
        assert reason in description
    _, without_reasons = render_hold(replace(context, reasons=()))
    assert "Tuesday 14 October" in without_reasons
    assert "invite" in description.lower()
    assert "note" in description.lower()
    assert "http" not in description
    for url in ALL_LINKS.values():
        assert url not in description


def test_suggestion_varies_by_status() -> None:
    statuses = ("neglected", "fading", "lapsed_one_on_one", "missing_one_on_one", "new")

    suggestions = {suggestion_for(status, None) for status in statuses}

    assert len(suggestions) == len(statuses)


def test_suggestion_is_role_specific_where_it_helps() -> None:
    assert suggestion_for("neglected", "mentor") != suggestion_for("neglected", None)
    assert suggestion_for("neglected", "unknown-role") == suggestion_for("neglected", None)
    assert suggestion_for("made-up-status", None)


# --- each thing said once ---------------------------------------------------------------

ANALYSIS_REASONS = {
    "neglected": ("usually weekly; last met 12 working days ago",),
    "fading": ("usually every two weeks; last met 9 working days ago",),
    "lapsed_one_on_one": (
        "weekly one-on-one: last 3 occurrences cancelled",
        "last held 5 weeks ago",
    ),
    "missing_one_on_one": ("direct report with no one-on-one", "none on record"),
    "repair": (
        "your weekly one-on-one with them was cancelled on 2 Nov and not rebooked",
        "usually weekly; last met 12 working days ago",
    ),
}
"""Reasons worded as ``nudger.analysis.status`` words them, per email kind."""


def sentences(part: str) -> list[str]:
    """The sentences a reader meets in a rendered part (HTML tags and links dropped),
    lowercased and without list markers or end punctuation, to compare them."""
    body = re.sub(r"(?s)<head>.*</head>", "", part)
    blocks = re.sub(r"</?(p|li|ul|div|table|tr|td|th|br)\b[^>]*>", "\n", body)
    words = html.unescape(re.sub(r"<[^>]+>", "", blocks))
    found = []
    for line in words.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip().removeprefix("- ")):
            sentence = sentence.strip().rstrip(".!?:").lower()
            if sentence and "http" not in sentence and sentence != "--":
                found.append(sentence)
    return found


def repeated(part: str) -> list[str]:
    return [s for s in set(sentences(part)) if sentences(part).count(s) > 1]


@pytest.mark.parametrize("kind", sorted(ANALYSIS_REASONS))
def test_no_sentence_appears_twice_in_a_nudge_email(kind: str) -> None:
    context = a_nudge(status=kind, reasons=ANALYSIS_REASONS[kind])

    rendered = render_email(kind, context)
    _, description = render_hold(context)

    assert repeated(rendered.text) == []
    assert repeated(rendered.html) == []
    assert repeated(description) == []


@pytest.mark.parametrize("kind", ["neglected", "fading", "repair"])
def test_the_last_meeting_and_the_rhythm_are_told_once(kind: str) -> None:
    """The reasons already say both: no evidence sentence saying them again."""
    context = a_nudge(status=kind, reasons=ANALYSIS_REASONS[kind])

    rendered = render_email(kind, context)
    _, description = render_hold(context)

    for part in (rendered.text, rendered.html, description):
        assert part.lower().count("last met") == 1, part
        assert "usually meet" not in part


def test_reasons_are_written_as_sentences() -> None:
    rendered = render_email(
        "lapsed_one_on_one", a_nudge(reasons=ANALYSIS_REASONS["lapsed_one_on_one"])
    )

    assert "- Weekly one-on-one: last 3 occurrences cancelled.\n" in rendered.text
    assert ">Last held 5 weeks ago.</li>" in rendered.html
