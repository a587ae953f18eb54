"""Passes on Celery workers over Redis, when ``NUDGER_BROKER_URL`` is set.

Layout. ``app`` builds the Celery app from the settings (late acknowledgement, a short
visibility timeout); ``tasks`` is the one task, an account's pass by id; ``enqueue``
puts passes on the queue (the scheduler's due accounts, or every account for ``nudger
cycle --enqueue``) and waits for their reports; ``status`` reads the queue and the
accounts' pass records for ``nudger status`` and /healthz.

What protects what. The broker only carries work: a pass may run twice (redelivered
after its worker died) or two passes of one account may be queued. The account's pass
lease (``nudger.passes.exclusive``) keeps two passes of one account from overlapping,
and the outbox's conditional claims keep any email from going out twice; every step is
idempotent, so a pass run again only finishes what the dead one left.
"""
