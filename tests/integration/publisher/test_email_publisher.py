"""The e-mail channel on the real runtime: a press release to a list where one address bounces is
published with the other recipients' messages, and the tracker's delivery says who bounced; a 4xx
for one recipient retries through the runtime's policy and sends to no one twice; a press list set
through the tracker's API is the one the publisher sends to."""

from __future__ import annotations

from typing import Any

import pytest
from publisher_helpers import Watcher, approved, send_content

from loa.events import DeliveryState as S
from loa.press import recipient_id
from loa.publisher.main import Publisher
from loa.publisher.settings import PublisherSettings
from loa.publisher.store.db import migrate
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings
from tests.channels.email.mail import CONTACT, DOMAIN, contacts, press_release
from tests.channels.email.smtp_server import smtp_server
from tests.integration.tracker.support import auth, eventually, running_tracker, tracker_settings

pytestmark = pytest.mark.integration

LIST = "bao-chi-trung-uong"


def email_settings(base: PublisherSettings, port: int) -> EmailSettings:
    values: dict[str, Any] = {k: getattr(base, k) for k in PublisherSettings.model_fields}
    values |= {
        "email_smtp_port": port,
        "email_from": f"Văn phòng Bộ <thongcao@{DOMAIN}>",
        "email_messages_per_second": 1000,
    }
    return EmailSettings(**values)


async def test_one_bounce_shows_in_the_tracker_and_a_deferral_is_retried_once(
    pub_settings: PublisherSettings, watcher: Watcher, sqlite_url: str
) -> None:
    people = contacts(6, "runtime")
    bounced, greylisted = people[1]["email"], people[4]["email"]
    refuse = {bounced: "550 5.1.1 mailbox unavailable", greylisted: "451 4.7.1 greylisted"}
    async with smtp_server(refuse=refuse) as server:
        pub = Publisher(EmailAdapter, email_settings(pub_settings, server.port))
        await migrate(pub.engine)
        await pub.accounts.add(LIST, {}, {"recipients": people, "contact": CONTACT})
        await pub.start()
        ts = tracker_settings(pub_settings, sqlite_url.replace("store.db", "tracker.db"), channels="email")
        async with running_tracker(ts) as (_, client):
            content = press_release("cttdt-2025-12-02-0007", account=LIST)
            await send_content(pub_settings, approved(content))
            did = f"{content.id}:email:{LIST}"
            retrying = await watcher.until_state(did, S.RETRYING)
            assert retrying.error is not None and retrying.error.code == "451"
            server.refuse.pop(greylisted)  # the greylisting ends: the runtime's next attempt goes
            done = await watcher.until_state(did, S.PUBLISHED)
            assert done.note is not None and done.note.startswith(
                "6 người nhận: 5 đã gửi, 1 bị trả lại (550 "
            )

            async def shown() -> bool:
                r = await client.get(f"/api/v1/contents/{content.id}", headers=auth("viewer"))
                found = [d for d in r.json().get("deliveries", []) if d["channel"] == "email"]
                return (
                    bool(found)
                    and found[0]["state"] == "published"
                    and "1 bị trả lại" in (found[0]["note"] or "")
                )

            await eventually(shown, what="the tracker to show the bounce")
            # the status event carries each recipient's outcome by id, and the tracker serves it
            assert done.recipients is not None
            assert done.recipients.counts == {"sent": 5, "deferred": 0, "bounced": 1, "complained": 0}
            listed = await client.get(f"/api/v1/deliveries/{did}/recipients", headers=auth("viewer"))
            first = listed.json()["recipients"][0]
            assert (first["id"], first["state"], first["code"]) == (recipient_id(bounced), "bounced", 550)
            assert "@" not in listed.text
        await pub.stop()
    received = sorted(r.recipient for r in server.received)
    assert received == sorted(p["email"] for p in people if p["email"] != bounced)  # each once


async def test_a_press_list_set_in_the_tracker_is_what_the_publisher_sends_to(
    pub_settings: PublisherSettings, watcher: Watcher, sqlite_url: str
) -> None:
    people = contacts(3, "from-tracker")
    async with smtp_server() as server:
        pub = Publisher(EmailAdapter, email_settings(pub_settings, server.port))
        await migrate(pub.engine)
        await pub.start()
        ts = tracker_settings(
            pub_settings,
            sqlite_url.replace("store.db", "tracker.db"),
            channels="email",
            credentials_key=pub_settings.credentials_key,
        )
        async with running_tracker(ts) as (_, client):
            account = {"channel": "email", "name": LIST, "unit": "Văn phòng Bộ", "options": {}}
            added = await client.post("/api/v1/accounts", json=account, headers=auth("admin"))
            assert added.status_code == 201, added.text
            body = {"people": people, "contact": CONTACT}
            changed = await client.put(f"/api/v1/press-lists/{LIST}", json=body, headers=auth("admin"))
            assert changed.status_code == 200, changed.text

            async def applied() -> bool:
                found = await pub.accounts.get(LIST)
                return found is not None and len(found.account.options.get("recipients") or []) == 3

            await eventually(applied, what="the publisher to apply the press list")
            content = press_release("cttdt-2025-12-02-0008", account=LIST)
            await send_content(pub_settings, approved(content))
            await watcher.until_state(f"{content.id}:email:{LIST}", S.PUBLISHED)
        await pub.stop()
    assert sorted(r.recipient for r in server.received) == sorted(p["email"] for p in people)
