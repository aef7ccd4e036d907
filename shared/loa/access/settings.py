"""The access settings the ingest, the tracker and the CLI share (env ``LOA_*``)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import AnyHttpUrl, Field, field_validator

from loa.access.units import UnitTree, nfc
from loa.settings import LoaSettings


class AccessSettings(LoaSettings):
    units: dict[str, str | None] = Field(
        default_factory=dict,
        description='JSON {"unit": "parent unit" or null}: the office\'s unit tree (loa.access.units)',
    )
    account_units: dict[str, str] = Field(
        default_factory=dict,
        description='JSON {"channel/account": "unit"}: the unit each channel account belongs to; an '
        "account not listed may be targeted only by a grant on every unit",
    )
    access_database_url: str | None = Field(
        default=None,
        description="where service-account tokens are kept (default LOA_DATABASE_URL): the ingest and "
        "the tracker must both read the same one",
    )

    oidc_issuer: AnyHttpUrl | None = Field(
        default=None,
        description="the OpenID Connect provider people sign in with (at /.well-known/openid-configuration"
        "); unset: no personal sign-in, bearer tokens only",
    )
    oidc_client_id: str = Field(
        default="",
        description="the tracker's client id at the provider: the audience of the people's ID tokens, "
        "which the ingest also accepts for a person's own acts",
    )
    oidc_groups_claim: str = Field(
        default="groups", description="the ID token claim listing loa:<role>:<unit>"
    )

    @field_validator("units", "account_units", mode="before")
    @classmethod
    def _from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def unit_tree(self) -> UnitTree:
        return UnitTree(self.units)

    def account_unit(self, channel: str, account: str) -> str | None:
        unit = self.account_units.get(f"{channel}/{account}")
        return None if unit is None else nfc(unit)

    @property
    def tokens_database_url(self) -> str:
        return self.access_database_url or self.database_url
