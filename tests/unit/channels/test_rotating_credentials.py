"""The rotating-credentials helper against a platform whose refresh tokens are single-use."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loa.channels import Account, AuthError, Secret
from loa.channels.credentials import MARKER, RotatingCredentials, stored_value
from loa.testing.context import FakeContext

pytestmark = pytest.mark.unit

EXPIRED = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


def _expiring_in(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


class Platform:
    """Refresh tokens are single-use: each refresh answers a new pair and kills the one presented."""

    def __init__(self, context: FakeContext) -> None:
        self.context = context
        self.live = "r0"
        self.refreshes = 0
        self.marker_at_refresh: list[str] = []
        """The marker stored when each refresh reached the platform."""

    def access_token(self, account: Account) -> str | None:
        return stored_value(account, "access") or None

    def fresh(self, account: Account) -> bool:
        expires = stored_value(account, "expires")
        return bool(expires) and datetime.fromisoformat(expires) > datetime.now(UTC)

    async def exchange(self, account: Account) -> Mapping[str, Any]:
        stored = self.context.credentials.get((account.channel, account.name), {})
        self.marker_at_refresh.append(stored[MARKER].reveal() if MARKER in stored else "")
        await asyncio.sleep(0.01)  # the round trip: other callers pile up meanwhile
        if account.secret("refresh") != self.live:
            raise AuthError("refresh token refused; a person must re-authorise")
        self.refreshes += 1
        self.live = f"r{self.refreshes}"
        return {"access_token": f"a{self.refreshes}", "refresh_token": self.live}

    def credentials_from(self, answer: Mapping[str, Any]) -> Mapping[str, str]:
        return {
            "access": answer["access_token"],
            "refresh": answer["refresh_token"],
            "expires": _expiring_in(timedelta(hours=1)),
        }


def _account(access: str = "a0", refresh: str = "r0", expires: str = EXPIRED) -> Account:
    values = {"access": access, "refresh": refresh, "expires": expires}
    return Account("zalo", "bo-tttt", {k: Secret(v) for k, v in values.items()})


def _stored(context: FakeContext) -> dict[str, str]:
    return {k: v.reveal() for k, v in context.credentials[("zalo", "bo-tttt")].items()}


class StoreDownError(Exception):
    """The account store failed to commit."""


class FailingSaveContext(FakeContext):
    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        raise StoreDownError("account store unavailable")


async def test_concurrent_callers_of_two_replicas_share_one_refresh() -> None:
    context = FakeContext()
    platform = Platform(context)
    replicas = [RotatingCredentials(context, platform), RotatingCredentials(context, platform)]
    expired = _account()

    results = await asyncio.gather(*(replicas[i % 2].current(expired) for i in range(20)))

    assert platform.refreshes == 1
    assert {r.secret("access") for r in results} == {"a1"}
    assert _stored(context)["refresh"] == platform.live == "r1"


async def test_a_pair_another_replica_stored_is_used_without_a_refresh() -> None:
    context = FakeContext()
    platform = Platform(context)
    other_replica = RotatingCredentials(context, platform)
    held = _account()  # this replica's copy, from before the other one rotated the pair
    await other_replica.current(held)
    assert platform.refreshes == 1

    account = await RotatingCredentials(context, platform).current(held)

    assert platform.refreshes == 1
    assert account.secret("access") == "a1" and account.secret("refresh") == platform.live


async def test_a_token_the_platform_rejected_is_refreshed_though_its_expiry_says_fresh() -> None:
    context = FakeContext()
    platform = Platform(context)
    fresh = _account(expires=_expiring_in(timedelta(hours=1)))
    credentials = RotatingCredentials(context, platform)

    assert await credentials.current(fresh) is fresh
    account = await credentials.refresh(fresh, rejected="a0")

    assert platform.refreshes == 1 and account.secret("access") == "a1"


async def test_the_marker_is_stored_before_the_refresh_and_emptied_with_the_new_pair() -> None:
    context = FakeContext()
    platform = Platform(context)

    await RotatingCredentials(context, platform).current(_account())

    assert len(platform.marker_at_refresh) == 1
    assert datetime.fromisoformat(platform.marker_at_refresh[0]) <= datetime.now(UTC)
    assert _stored(context)[MARKER] == ""


async def test_a_pair_that_could_not_be_stored_is_never_used_and_the_loss_is_explained() -> None:
    context = FailingSaveContext()
    platform = Platform(context)
    credentials = RotatingCredentials(context, platform)

    with pytest.raises(StoreDownError):
        await credentials.current(_account())
    assert platform.refreshes == 1  # the platform rotated: its answer died with the failed commit

    # Nothing in memory hands out the unsaved pair: the stored one is tried, and refused.
    with pytest.raises(AuthError) as refused:
        await credentials.current(_account())
    assert "re-authorise" in refused.value.message
    assert "interrupted" in refused.value.message
    assert platform.refreshes == 1


async def test_a_refusal_without_an_interrupted_refresh_says_only_that() -> None:
    context = FakeContext()
    platform = Platform(context)
    platform.live = "r-from-elsewhere"

    with pytest.raises(AuthError) as refused:
        await RotatingCredentials(context, platform).current(_account())
    assert "interrupted" not in refused.value.message


async def test_a_cancelled_caller_does_not_stop_the_refresh_from_being_stored() -> None:
    context = FakeContext()
    platform = Platform(context)
    credentials = RotatingCredentials(context, platform)
    caller = asyncio.create_task(credentials.current(_account()))
    await asyncio.sleep(0.001)  # the refresh is on its way to the platform

    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await credentials.aclose()

    assert platform.refreshes == 1
    assert _stored(context)["refresh"] == platform.live
    assert _stored(context)[MARKER] == ""
