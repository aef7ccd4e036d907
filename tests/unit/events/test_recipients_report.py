"""The per-recipient report a list delivery's status events carry: counts, ids only, no address
anywhere (not even one a relay's reply names), and bounded so the event fits a Kafka record."""

from __future__ import annotations

import pytest

from loa.channels import PublishResult
from loa.events import Delivery, DeliveryState, DeliveryStatus
from loa.events.delivery import (
    MAX_RECIPIENTS,
    RECIPIENT_REPLIES_BUDGET,
    RECIPIENT_REPLY_MAX,
    RecipientState,
    recipients_report,
)
from loa.press import recipient_id
from loa.publisher.store.codec import result_from_json, result_to_json
from loa.text import without_addresses

pytestmark = pytest.mark.unit

# Postfix's answer to an unknown mailbox (RFC 3463 enhanced code 5.1.1) names the address
POSTFIX_BOUNCE = "5.1.1 <Đạt.Nguyen@vov.example.vn>: Recipient address rejected: User unknown"


def test_a_relays_reply_loses_the_address_it_names() -> None:
    assert without_addresses(POSTFIX_BOUNCE) == "5.1.1 <[địa chỉ]>: Recipient address rejected: User unknown"
    greylisted = "4.7.1 Greylisted, thử lại sau 300 giây"
    assert without_addresses(greylisted) == greylisted


def test_the_report_counts_every_state_and_keeps_ids_only() -> None:
    states = {
        recipient_id("dao.tran@tuoitre.example.vn"): {"state": "sent", "code": 250, "reply": "2.0.0 Ok"},
        recipient_id("dat.nguyen@vov.example.vn"): {"state": "bounced", "code": 550, "reply": POSTFIX_BOUNCE},
    }
    report = recipients_report(states)
    assert report.counts == {
        RecipientState.SENT: 1,
        RecipientState.DEFERRED: 0,
        RecipientState.BOUNCED: 1,
        RecipientState.COMPLAINED: 0,
    }
    assert "@" not in report.model_dump_json()
    assert recipient_id(" Dat.Nguyen@VOV.example.vn ") == recipient_id("dat.nguyen@vov.example.vn")


def test_a_full_list_fits_a_kafka_record_with_failures_replies_first() -> None:
    long_reply = "4.2.2 Hộp thư đầy, vui lòng thử lại sau " * 20
    states = {
        f"{i:016x}": {"state": "sent", "code": 250, "reply": long_reply}
        if i % 10
        else {"state": "deferred", "code": 452, "reply": long_reply}
        for i in range(MAX_RECIPIENTS)
    }
    report = recipients_report(states)
    event = DeliveryStatus(
        producer="loa-publisher-email",
        payload=Delivery(
            content_id="thong-cao-bao-chi",
            version=1,
            channel="email",
            account="bao-chi-trung-uong",
            state=DeliveryState.PUBLISHED,
            sequence=3,
            recipients=report,
        ),
    )
    assert len(event.model_dump_json().encode()) < 1_000_000  # Kafka's default message.max.bytes
    replies = [o.reply for o in report.recipients.values() if o.reply]
    assert sum(map(len, replies)) <= RECIPIENT_REPLIES_BUDGET
    assert all(len(r) == RECIPIENT_REPLY_MAX and r.endswith("…") for r in replies)
    deferred = [o for o in report.recipients.values() if o.state is RecipientState.DEFERRED]
    assert all(o.reply for o in deferred)  # what needs a look keeps its reason
    assert any(o.reply is None for o in report.recipients.values() if o.state is RecipientState.SENT)


def test_the_job_store_keeps_the_report_with_the_result() -> None:
    sent = {recipient_id("huong.le@baodanang.example.vn"): {"state": "sent", "code": 250}}
    report = recipients_report(sent)
    kept = result_from_json(result_to_json(PublishResult("loa-email-x", None, {}, recipients=report)))
    assert kept.recipients == report
    assert result_from_json(result_to_json(PublishResult("loa-web-x"))).recipients is None
    # a result kept by the previous release (no "recipients" key) reads back without a report
    before = '{"external_id": "loa-email-x", "url": null, "extra": {}, "scheduled_natively": false}'
    assert result_from_json(before).recipients is None
