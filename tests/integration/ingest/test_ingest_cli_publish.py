"""``loa publish`` and ``loa retract`` against a live ingest on an ephemeral port."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loa.cli.main import app
from loa.events import ContentApproved, ContentRetracted, parse_content_event, topics
from loa.media import MediaStore
from tests.integration.ingest.conftest import LiveIngest
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "thong-cao-bao-chi.md"


def env(live: LiveIngest, token: str) -> dict[str, str]:
    return {"LOA_INGEST_URL": live.url, "LOA_API_TOKEN": token}


async def test_publish_the_sample_then_retract(live_ingest: LiveIngest) -> None:
    live = live_ingest
    runner = CliRunner()
    result = runner.invoke(app, ["publish", str(SAMPLE)], env=env(live, live.admin))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["id"] == "tcbc-2026-chuyen-doi-so"
    assert answer["type"] == "content.approved"
    again = runner.invoke(app, ["publish", str(SAMPLE)], env=env(live, live.admin))
    assert again.exit_code == 0, again.output  # same article again: the first answer, no new event
    assert json.loads(again.stdout) == answer
    gone = runner.invoke(
        app, ["retract", answer["id"], "--reason", "Đính chính số liệu"], env=env(live, live.admin)
    )
    assert gone.exit_code == 0, gone.output

    records = await read_topic(live.settings.kafka_bootstrap, live.settings.topic(topics.CONTENT), 2)
    events = [parse_content_event(r.value) for r in records]
    assert [type(e) for e in events] == [ContentApproved, ContentRetracted]
    approved = events[0]
    assert isinstance(approved, ContentApproved)
    content = approved.payload
    assert content.approved_by == "admin"  # the account the ingest authenticated (LOA_API_TOKEN)
    assert content.approver_claim == "Chánh Văn phòng Bộ"  # what the article's front matter says
    assert unicodedata.is_normalized("NFC", content.body)
    assert "<h2>Thông tin liên hệ</h2>" in content.body
    assert [m.alt for m in content.media] == [
        "Ảnh bìa thông cáo: ngôi sao vàng trên nền đỏ",
        "Đoạn video giới thiệu ngắn",
    ]
    assert content.media[1].duration_s == pytest.approx(3.0)
    store = MediaStore(live.settings)
    for ref, name in zip(content.media, ["anh-bia.jpg", "video-ngan.mp4"], strict=True):
        stored = b"".join(store.iter_bytes(ref.key))
        assert hashlib.sha256(stored).hexdigest() == ref.sha256
        assert stored == (SAMPLE.parent / name).read_bytes()


def test_publish_errors_name_the_field(live_ingest: LiveIngest, tmp_path: Path) -> None:
    article = tmp_path / "bai.md"
    article.write_text("---\ntitle: Tin\nunit: Vụ\nchannels: [myspace:a]\n---\nNội dung", encoding="utf-8")
    result = CliRunner().invoke(app, ["publish", str(article)], env=env(live_ingest, live_ingest.admin))
    assert result.exit_code == 1
    assert "unknown_channel" in result.output
    assert "payload.targets.0.channel" in result.output
    wrong = "sai-token-nhung-du-dai-0123456789abcdef"  # long enough to reach the ingest (>= 32)
    refused = CliRunner().invoke(app, ["publish", str(SAMPLE)], env=env(live_ingest, wrong))
    assert refused.exit_code == 1
    assert "401" in refused.output
    assert wrong not in refused.output


def test_dry_run_sends_nothing(live_ingest: LiveIngest) -> None:
    result = CliRunner().invoke(app, ["publish", str(SAMPLE), "--dry-run"], env=env(live_ingest, ""))
    assert result.exit_code == 0, result.output
    event = json.loads(result.stdout)
    assert event["type"] == "content.approved"
    assert event["payload"]["media"][0]["key"].startswith("sha256/")
    assert not MediaStore(live_ingest.settings).exists(event["payload"]["media"][0]["key"])
    assert "What each channel would receive" in result.stderr  # the per-channel preview
