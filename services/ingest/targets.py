"""Whether a content's targets can be published here: a known channel, an existing account, a text
the channel would take. Refused at submission (422 naming the target) rather than accepted and
failed later by the publisher."""

from __future__ import annotations

import contextlib

from loa.access import Principal
from loa.access.policy import Action, Policy
from loa.access.principal import ALL_UNITS
from loa.channels import ChannelAdapter, registry
from loa.events import Content
from loa.publisher.directory import AccountDirectory
from loa.publisher.discovery import load_channel
from services.ingest.account_units import AccountUnits
from services.ingest.errors import ApiError
from services.ingest.settings import IngestSettings


def _adapters(channels: frozenset[str]) -> dict[str, type[ChannelAdapter]]:
    """The adapter classes of the known channels that this installation has (loaded once, at start)."""
    found = {}
    for name in sorted(channels):
        with contextlib.suppress(KeyError, ImportError):
            found[name] = load_channel(name)[0]
    return found


class Targets:
    """The known channels (``LOA_CHANNELS`` and the registered adapters), their adapter classes and
    the publishers' accounts."""

    def __init__(self, settings: IngestSettings) -> None:
        self.known_channels = settings.channel_names | frozenset(registry.names())
        self.adapters = _adapters(self.known_channels)
        self.directory = AccountDirectory(settings)
        self.account_units = AccountUnits(settings)
        self.settings = settings

    async def check_units(self, content: Content, client: Principal, policy: Policy) -> None:
        """Each target's account belongs to a unit the client may submit for: 403 naming the target.

        An account's unit is the tracker's accounts table's (``account_units.py``), else
        ``LOA_ACCOUNT_UNITS``; an account neither gives a unit takes only a grant on every unit."""
        fields = []
        for i, t in enumerate(content.targets):
            unit = await self.account_units.unit_of(t.channel, t.account) or ALL_UNITS
            refusal = policy.refusal(client, Action.SUBMIT, unit)
            if refusal is not None:
                owner = "no unit" if unit == ALL_UNITS else f"unit {unit!r}"
                reason = f"{t.channel}/{t.account} belongs to {owner}; {refusal}"
                fields.append({"field": f"payload.targets.{i}.account", "reason": reason})
        if fields:
            raise ApiError(403, "account_of_another_unit", fields[0]["reason"][:1000], fields)

    def check_channels(self, content: Content) -> None:
        known = self.known_channels
        fields = [
            {"field": f"payload.targets.{i}.channel", "reason": f"unknown channel {t.channel!r}"}
            for i, t in enumerate(content.targets)
            if t.channel not in known
        ]
        if fields:
            names = ", ".join(sorted(known))
            raise ApiError(422, "unknown_channel", f"unknown channel (known: {names})", fields)

    async def check_accounts(self, content: Content, link: str) -> None:
        """Each target's account exists and its channel would not refuse it: 422 naming the target."""
        fields = []
        for i, t in enumerate(content.targets):
            where = f"{t.channel}/{t.account}"
            if await self.directory.has(t.channel, t.account) is False:
                add = f"loa accounts add {t.channel} ..."
                reason = f"{where}: no account {t.account!r} on {t.channel} ({add})"
                fields.append({"field": f"payload.targets.{i}.account", "reason": reason})
            adapter = self.adapters.get(t.channel)  # a channel without an adapter here: its publisher checks
            if adapter is not None:
                refusal = adapter.refuse_target(content, t, link)
                if refusal is not None:
                    field, _, why = refusal.partition(": ")
                    fields.append({"field": f"payload.targets.{i}.{field}", "reason": f"{where}: {why}"})
        if fields:
            summary = "; ".join(f["reason"] for f in fields[:5])
            raise ApiError(422, "target_refused", f"a target cannot be published: {summary}"[:1000], fields)
