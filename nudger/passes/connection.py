"""An account's connector and the saver of its refreshed credentials.

The steps that talk to the provider (sync, deliver) each connect on their own when run
alone; a whole pass connects once and hands them the same connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from nudger import accounts
from nudger.connectors.base import Connector
from nudger.runtime import Runtime


@dataclass(frozen=True)
class Connection:
    connector: Connector
    saver: accounts.CredentialSaver


def connect(runtime: Runtime, account_id: int) -> Connection:
    saver = accounts.CredentialSaver(runtime, account_id)
    return Connection(accounts.connector_for(runtime, account_id, saver), saver)
