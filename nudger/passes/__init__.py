"""The application layer: one account's pass, one module per step.

Layout. ``sync_step`` (profile, directory roles, calendars, deleted holds),
``decide_step`` (analyse, decide, queue into the outbox) and ``deliver_step`` (claim and
send or book what is queued) are each ``step(runtime, account_id, now, ...)`` returning
a small frozen outcome. Each opens its own sessions, so a worker can run any of them
alone, by id; each is idempotent, so running one twice in a row changes nothing the
second time (saved sync cursors, deterministic outbox keys, claims by conditional
UPDATE). Steps raise; ``account_pass`` composes them over one provider connection and
turns what they raise into the account's ``CycleReport``. ``analyse`` reads the audit
from what is stored (also for the web pages); ``connection`` builds the connector.
``nudger.cycle`` runs the pass for every account.
"""
