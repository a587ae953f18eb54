"""A revoked grant: pause the account and ask its owner, once, to reconnect.

The account moves from ``active`` to ``reconnect`` with a conditional UPDATE, so
of any number of workers that see the revocation only one queues the email (its
outbox key names the moment of the revocation). The email goes through the
operator's SMTP server, since the owner's own mailbox is what was revoked.
Reconnecting suppresses a request still waiting to be sent.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from nudger.connectors.base import OutgoingEmail
from nudger.delivery import outbox
from nudger.delivery.email import build_message, render_email
from nudger.delivery.system_mail import SystemMailer
from nudger.errors import ConnectorError, OutcomeUnknown, TransientError
from nudger.runtime import Runtime
from nudger.store import accounts as account_store
from nudger.store import nudges as nudge_store
from nudger.store.db import session_scope
from nudger.store.models import Account
from nudger.wording import greeting_name

log = logging.getLogger(__name__)

KIND = "reconnect"


def request_reconnect(runtime: Runtime, account_id: int, now: datetime) -> bool:
    """Pause the account; True when this call queued the (single) reconnect email."""
    with session_scope(runtime.db) as session:
        paused = account_store.change_status(
            session, account_id, "active", "reconnect", reconnect_notified_at=now
        )
        if not paused:
            return False
        request = outbox.NewNudge(
            key=f"{account_id}:{KIND}:{now.isoformat()}",
            contact_email="",
            kind=KIND,
            rule=KIND,
            payload=None,
            evidence=["access revoked or expired"],
            priority=1000,
        )
        outbox.enqueue(session, account_id, [request], now)
    log.warning("account %s lost its grant: paused, reconnect email queued", account_id)
    return True


def cancel_reconnect_requests(session: Session, account_id: int, now: datetime) -> None:
    """The owner reconnected: a request not yet sent is no longer needed."""
    nudge_store.suppress_pending(session, account_id, KIND, "account reconnected", now)


def deliver_reconnect_requests(runtime: Runtime, now: datetime) -> Counter[str]:
    """Send every pending reconnect email (all accounts) through the SMTP server."""
    done: Counter[str] = Counter()
    mailer = SystemMailer.from_settings(runtime.settings)
    with session_scope(runtime.db) as session:
        pending = nudge_store.pending_of_kind(session, KIND)
    if mailer is None:
        if pending:
            log.warning("%d reconnect emails wait: set NUDGER_SMTP_URL to send them", len(pending))
        return done
    worker = outbox.worker_id()
    for nudge_id in pending:
        with session_scope(runtime.db) as session:
            claimed = outbox.claim(session, nudge_id, worker, now)
        if claimed is None:
            continue
        status, error = _send(runtime, mailer, claimed, now)
        with session_scope(runtime.db) as session:
            outbox.finish(session, claimed.id, status, now, error=error)
        done[status] += 1
    return done


def _send(
    runtime: Runtime, mailer: SystemMailer, nudge: outbox.ClaimedNudge, now: datetime
) -> tuple[str, str | None]:
    """The row's outcome; whatever goes wrong with one email touches no other."""
    try:
        mailer.send(_message(runtime, mailer, nudge, now))
    except OutcomeUnknown as exc:
        return "in_doubt", str(exc)
    except TransientError as exc:
        log.warning("reconnect email %s waits: %s", nudge.id, exc)
        return "pending", str(exc)
    except ConnectorError as exc:
        log.warning("reconnect email %s failed: %s", nudge.id, exc)
        return "failed", str(exc)
    except Exception as exc:  # a bug or a broken row
        log.exception("reconnect email %s failed unexpectedly", nudge.id)
        return "failed", outbox.unexpected_error(exc)
    return "sent", None


def _message(
    runtime: Runtime, mailer: SystemMailer, nudge: outbox.ClaimedNudge, now: datetime
) -> OutgoingEmail:
    with session_scope(runtime.db) as session:
        account = session.get_one(Account, nudge.account_id)
        owner, name, provider = account.email, account.name, account.provider
    query = urlencode({"login_hint": owner})
    context = {
        "owner_name": greeting_name(name, owner),
        "links": {"reconnect": f"{runtime.settings.public_url}/connect/{provider}?{query}"},
    }
    return build_message(
        sender=owner,
        sender_name=name,
        rendered=render_email(KIND, context),
        key=nudge.key,
        now=now,
        from_address=mailer.sender,
    )
