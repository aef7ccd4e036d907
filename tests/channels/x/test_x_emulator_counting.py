"""The X emulator refuses what X refuses and takes what X takes, counted the way twitter-text 3.1.0
counts (every length here is its ``parseTweet``'s, config v3: the npm package the emulator runs by
node, skipped like the oracle test without it). In-process ASGI client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.sandbox.app import build_app
from tests.channels.x.conftest import Node

pytestmark = pytest.mark.unit

LINK = "https://baochinhphu.vn/thong-cao-bao-chi-ve-ky-hop-thu-10-quoc-hoi-khoa-xv-102241126.htm"
FLAG = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # England: a tag sequence, weight 2


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:  # the emulator counts with twitter-text, by node
    with TestClient(build_app()) as c:
        c.post("/_sandbox/reset")
        yield c
        c.post("/_sandbox/reset")


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    app = {"client_id": f"c-{uuid.uuid4().hex[:8]}", "client_secret": uuid.uuid4().hex}
    pair = client.post("/x/_oauth2_users", json={"id": "7777", "username": "bothongtin", **app}).json()
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _post(client: TestClient, auth: dict[str, str], text: str) -> tuple[int, str]:
    answer = client.post("/x/2/tweets", json={"text": text}, headers=auth)
    return answer.status_code, answer.json().get("detail", "")


@pytest.mark.parametrize(
    "text",
    [
        "Đà Nẵng " + FLAG * 135 + "!",  # 9 + 135 × 2 + 1 = 280: each flag weighs 2, not 14
        "Xem https://twitter.भारत " + "ệ" * 126,  # 4 + 23 + 1 + 252 = 280: the IDN TLD is whole
    ],
    ids=["tag-sequence-flags", "idn-tld"],
)
def test_a_post_of_exactly_280_is_taken(client: TestClient, auth: dict[str, str], text: str) -> None:
    assert _post(client, auth, text)[0] == 201


@pytest.mark.parametrize(
    "text",
    [
        "Họp báo " + "ệ" * 122 + " " + LINK + ".....",  # 9 + 244 + 1 + 23 + 5 = 282: the dots count
        "Xem ELPAÍS.com " + "ạ" * 129,  # 4 + 23 + 1 + 258 = 286: a schemeless link with an accent
        "Trang "
        + "ờ" * 125
        + " foo.bar và abc.xyz",  # 6 + 250 + 1 + 23 + 4 + 23 = 307: X knows .bar and .xyz
    ],
    ids=["url-with-trailing-dots", "accented-schemeless-domain", "tlds-beyond-32"],
)
def test_a_post_over_280_is_refused_as_too_long(client: TestClient, auth: dict[str, str], text: str) -> None:
    status, detail = _post(client, auth, text)
    assert (status, detail.startswith("Your Tweet text is too long")) == (403, True)


def test_a_byte_order_mark_makes_the_post_invalid(client: TestClient, auth: dict[str, str]) -> None:
    assert _post(client, auth, "Thông cáo\ufeff báo chí")[0] == 400
