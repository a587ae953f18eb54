"""/account/delete: revoke at the provider, delete every row, forget the browser.

The user types their address to confirm, so a stray click cannot delete an account.
A failed revoke deletes nothing (``accounts.remove_account``): a live grant must
never be left behind with no row to revoke it from.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nudger import accounts
from nudger.errors import ConnectorError
from nudger.runtime import Runtime
from nudger.web.dashboard import AccountView, load_account
from nudger.web.pages import Web
from nudger.web.security import checked_form, sign_out, signed_in_account

log = logging.getLogger(__name__)


def delete_account(runtime: Runtime, account: AccountView) -> None:
    """Remove the signed-in account (and only it: the address must resolve to its id)."""
    if accounts.find_account(runtime, account.email).id != account.id:
        raise ConnectorError("another account shares this address; remove it with the CLI")
    accounts.remove_account(runtime, account.email)


class AccountRoutes:
    def __init__(self, web: Web) -> None:
        self.web = web

    def routes(self) -> list[Route]:
        return [
            Route("/account/delete", self.confirm, methods=["GET"]),
            Route("/account/delete", self.delete, methods=["POST"]),
        ]

    def confirm(self, request: Request) -> Response:
        account = load_account(self.web.runtime, signed_in_account(request))
        return self._page(request, account, None)

    async def delete(self, request: Request) -> Response:
        form = await checked_form(request)
        account = await run_in_threadpool(
            load_account, self.web.runtime, signed_in_account(request)
        )
        typed = str(form.get("email", "")).strip().lower()
        if typed != account.email.lower():
            error = "Email: type your address exactly as shown to confirm."
            return self._page(request, account, error, 400)
        try:
            await run_in_threadpool(delete_account, self.web.runtime, account)
        except ConnectorError as exc:
            log.warning("deleting account %s failed: %s", account.id, exc)
            text = f"Nothing was deleted: the provider did not confirm the revocation ({exc})."
            return self.web.message(request, "Try again later", text, 502)
        sign_out(request)
        text = (
            f"{account.email} is disconnected: nudger's access is revoked and everything it "
            "stored about your calendar and contacts is deleted."
        )
        return self.web.message(request, "Goodbye", text)

    def _page(
        self, request: Request, account: AccountView, error: str | None, status: int = 200
    ) -> Response:
        context = {"account": account, "error": error, "active": "account"}
        return self.web.page(request, "delete_account.html", context, status)
