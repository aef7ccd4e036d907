"""A correction's link step: its account name, its headline, its hold and its job at intake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from loa.channels import Account, ChannelAdapter, Post, PublishResult
from loa.channels.corrections import (
    LINK_OPERATION,
    CorrectionLink,
    base_account,
    is_link_account,
    link_account,
)
from loa.events import Content, ContentKind, Hold, Target
from loa.events.delivery import Delivery, DeliveryState
from loa.publisher.corrections import link_step
from loa.publisher.holds import covering
from loa.publisher.lifecycle import S
from loa.publisher.store.holds import ActiveHold
from loa.testing.context import FakeContext


class Linking(ChannelAdapter):
    name = "facebook"

    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        return True

    async def render(self, content: Content, target: Target, account: Account) -> Post:
        raise NotImplementedError

    async def publish(self, post: Post, account: Account) -> PublishResult:
        raise NotImplementedError

    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        return None

    async def retract(self, previous: PublishResult, account: Account) -> None:
        return None


def _content(**over: Any) -> Content:
    fields: dict[str, Any] = {
        "id": "tb-dinh-chinh-1",
        "version": 1,
        "title": "Đính chính: số ca mắc sốt xuất huyết ở Đắk Lắk là 1.250",
        "unit": "Sở Y tế Đắk Lắk",
        "approved_by": "Lê Thị Đào",
        "approved_at": datetime.now(UTC),
        "targets": [Target(channel="facebook", account="trang-so", options={"pin": True})],
        "kind": ContentKind.CORRECTION,
        "corrects": "tb-goc-1",
    } | over
    return Content.model_validate(fields)


def test_the_link_account_is_a_valid_account_name_of_its_own_and_comes_back() -> None:
    name = link_account("trang-so")
    assert name == "trang-so~đính-chính" and is_link_account(name) and not is_link_account("trang-so")
    assert base_account(name) == "trang-so" and base_account("trang-so") == "trang-so"
    delivery = Delivery(
        content_id="tb-1",
        version=1,
        channel="facebook",
        account=name,
        state=DeliveryState.RECEIVED,
        sequence=1,
    )
    assert delivery.delivery_id == "tb-1:facebook:trang-so~đính-chính"  # the tracker's own row


def test_a_hold_of_the_account_holds_its_link_step_too() -> None:
    hold = Hold(hold_id="h-1", account="trang-so", requested_by="Trần Văn Đức", reason="Sự cố truyền thông")
    active = [ActiveHold(hold, datetime.now(UTC))]
    assert covering(active, "facebook", link_account("trang-so"), None) is hold
    assert covering(active, "facebook", link_account("trang-khac"), None) is None


def test_intake_makes_one_link_step_for_a_correction_and_none_otherwise() -> None:
    adapter = Linking(FakeContext())
    correction = _content()
    step = link_step(adapter, correction, correction.targets[0], [], None)
    assert step is not None and step.post is not None
    assert (step.account, step.operation, step.state) == ("trang-so~đính-chính", LINK_OPERATION, S.SCHEDULED)
    assert step.post.payload["corrects"] == "tb-goc-1" and step.post.payload["options"] == {"pin": True}
    news = _content(kind=ContentKind.NEWS, corrects=None)
    assert link_step(adapter, news, news.targets[0], [], None) is None
    hold = Hold(hold_id="h-2", requested_by="Trần Văn Đức", reason="Sự cố truyền thông")
    held = link_step(adapter, correction, correction.targets[0], [], hold)
    assert held is not None and held.state is S.HELD


def test_the_headline_says_dinh_chinh_once() -> None:
    post = Post("tb", 1, "x", "a~đính-chính", "m", payload={"title": "Số liệu mới", "url": "https://a.vn/b"})
    link = CorrectionLink(post, PublishResult("1"), None, date(2026, 12, 4))
    assert link.headline == "Đính chính: Số liệu mới" and link.url == "https://a.vn/b"
    post.payload["title"] = "ĐÍNH CHÍNH: số liệu mới"
    assert link.headline == "ĐÍNH CHÍNH: số liệu mới"
