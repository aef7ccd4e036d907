"""A correction on YouTube: a dated line on top of the original video's description, once, in 5000 bytes."""

from __future__ import annotations

from datetime import date

import pytest

from loa.channels import PermanentError, PublishResult
from services.sandbox.youtube_state import state
from services.youtube import render
from tests.channels.youtube.support import account, content, put_video
from tests.channels.youtube.test_youtube_manage import CHUNK, _published
from tests.support.corrections import as_correction, correction_link

pytestmark = pytest.mark.integration

TITLE = "Đính chính: lịch họp báo Chính phủ chuyển sang ngày 5/12"


async def test_the_original_description_gets_a_dated_correction_line_on_top_once(make_adapter, store) -> None:
    adapter, post, result, acct = await _published(make_adapter, store)
    before = state().videos[result.external_id].snippet
    title, category = before["title"], before["categoryId"]
    correction = as_correction(content([]), post.content_id, TITLE)
    link = correction_link(adapter, correction, result, corrected_on=date(2026, 12, 4))

    made = await adapter.link_correction(link, acct)
    description = state().videos[result.external_id].snippet["description"]
    assert description.startswith(f"Đính chính (04/12/2026): {link.website_url}\n\n")
    assert description.endswith(post.payload["snippet"]["description"])  # the old text follows, whole
    snippet = state().videos[result.external_id].snippet
    assert (snippet["title"], snippet["categoryId"]) == (title, category)  # kept: videos.update needs them
    assert made.url == result.url

    # a retry the next day, and the check after an interruption, find the line: not written twice
    assert await adapter.find_correction_link(link, acct) is not None
    again = correction_link(adapter, correction, result, corrected_on=date(2026, 12, 5))
    await adapter.link_correction(again, acct)
    assert state().videos[result.external_id].snippet["description"] == description


async def test_a_full_description_is_shortened_to_keep_the_line_within_5000_bytes(
    make_adapter, store
) -> None:
    adapter, post, result, acct = await _published(make_adapter, store)
    video = state().videos[result.external_id]
    video.snippet["description"] = "Thông tin chi tiết về buổi họp báo của Chính phủ. " * 95  # ~4,900 bytes
    link = correction_link(adapter, as_correction(content([]), post.content_id, TITLE), result)
    await adapter.link_correction(link, acct)
    description = video.snippet["description"]
    assert len(description.encode("utf-8")) <= render.DESCRIPTION_MAX_BYTES
    assert description.startswith("Đính chính (") and description.endswith("…")


async def test_a_video_gone_is_permanent_and_not_found_after_an_interruption(make_adapter, store) -> None:
    adapter, _context = make_adapter()
    gone = PublishResult("khong-con-video", "https://www.youtube.com/watch?v=khong-con-video")
    link = correction_link(adapter, as_correction(content([put_video(store, CHUNK)]), "tb-goc", TITLE), gone)
    with pytest.raises(PermanentError) as caught:
        await adapter.link_correction(link, account())
    assert caught.value.code == "videoNotFound"
    assert await adapter.find_correction_link(link, account()) is None


def test_a_line_too_long_for_any_description_is_refused() -> None:
    with pytest.raises(ValueError, match="description"):
        render.with_correction_line("mô tả", "Đính chính: " + "đ" * 2600, "https://x.vn/a")


async def test_the_emulator_refuses_a_description_edit_over_5000_bytes(make_adapter, store) -> None:
    """What the line's budget avoids: ``videos.update`` answers ``invalidDescription`` past 5000 bytes."""
    adapter, _post, result, acct = await _published(make_adapter, store)
    snippet = dict(state().videos[result.external_id].snippet, description="đ" * 2501)  # 5002 bytes
    body = {"id": result.external_id, "snippet": snippet}
    with pytest.raises(PermanentError) as caught:
        await adapter._api(
            "videos.update",
            acct,
            lambda http: adapter.service.videos().update(part="snippet", body=body).execute(http=http),
        )
    assert caught.value.code == "invalidDescription"
