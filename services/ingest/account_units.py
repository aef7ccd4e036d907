"""Which unit each channel account belongs to, as the ingest checks a content's targets.

The one owner is the tracker's accounts table (``/api/v1/accounts``, admin only), read through
``GET /api/v1/account-units`` with a read-only token (``LOA_INGEST_TRACKER_TOKEN``, a service
account with ``viewer`` on every unit). A copy is kept for ``LOA_INGEST_ACCOUNT_UNITS_TTL_S``
(default 5 s: a moved account is refused within that). If the tracker cannot answer, the last copy
serves for at most ``STALE_LIMIT_S`` (the tracker down means nobody moves an account meanwhile);
after that, submissions are refused with a 503 rather than checked against nothing.

``LOA_ACCOUNT_UNITS`` remains the bootstrap: it answers for accounts the table does not list
(added before the accounts API, with ``loa accounts --database-url``), and for everything when
``LOA_INGEST_TRACKER_URL`` is unset (development).
"""

from __future__ import annotations

import logging
import time

import httpx

from loa.access.units import nfc
from loa.tls import client_context
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)
STALE_LIMIT_S = 600.0
"""How long the last copy of the table serves while the tracker does not answer."""


class AccountUnits:
    def __init__(self, settings: IngestSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._url = settings.ingest_tracker_url
        self._http = http or httpx.AsyncClient(timeout=5.0, follow_redirects=False, verify=client_context())
        self._table: dict[tuple[str, str], str | None] | None = None
        self._fetched_at = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def unit_of(self, channel: str, account: str) -> str | None:
        """The account's unit: the table's, else ``LOA_ACCOUNT_UNITS``'s; None if neither knows it."""
        table = await self._current() if self._url is not None else {}
        if (channel, account) in table:
            unit = table[(channel, account)]
            return None if unit is None else nfc(unit)
        return self.settings.account_unit(channel, account)

    async def _current(self) -> dict[tuple[str, str], str | None]:
        age = time.monotonic() - self._fetched_at
        if self._table is not None and age < self.settings.ingest_account_units_ttl_s:
            return self._table
        try:
            self._table = await self._fetch()
            self._fetched_at = time.monotonic()
        except (httpx.HTTPError, ValueError, KeyError) as e:
            if self._table is None or age > STALE_LIMIT_S:
                log.error("account units: the tracker's accounts table cannot be read: %s", e)
                why = "which unit each account belongs to cannot be read from the tracker; try again shortly"
                raise ApiError(503, "account_units_unavailable", why) from None
            log.warning("account units: the tracker did not answer (%s); using a copy %.0f s old", e, age)
        return self._table

    async def _fetch(self) -> dict[tuple[str, str], str | None]:
        token = self.settings.ingest_tracker_token.get_secret_value()
        response = await self._http.get(
            f"{str(self._url).rstrip('/')}/api/v1/account-units",
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"GET /api/v1/account-units answered {response.status_code}",
                request=response.request,
                response=response,
            )
        return {(a["channel"], a["name"]): a["unit"] for a in response.json()}
