"""Edit, retract, quota, auth and error mapping of the YouTube adapter against the emulator."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loa.channels import PermanentError, TransientError
from loa.logging import JsonFormatter
from services.sandbox.frame import Fault, sandbox
from services.sandbox.youtube_state import state
from tests.channels.youtube.support import account, content, put_video

pytestmark = pytest.mark.integration
CHUNK = 256 * 1024


async def _published(make_adapter, store, acct=None, **settings):
    adapter, _context = make_adapter(**settings)
    acct = acct or account()
    video = put_video(store, CHUNK)
    post = await adapter.render(content([video]), content([video]).targets[0], acct)
    return adapter, post, await adapter.publish(post, acct), acct


def _next_pacific_midnight() -> datetime:
    pacific = ZoneInfo("America/Los_Angeles")
    day = datetime.now(pacific).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=pacific)


async def test_update_edits_title_description_and_tags(make_adapter, store) -> None:
    adapter, post, result, acct = await _published(make_adapter, store)
    changed = content(
        post.media, version=2, title="Đính chính: Họp báo Chính phủ tháng 11", tags=["đính chính"]
    )
    new_post = await adapter.render(changed, changed.targets[0], acct)

    assert await adapter.update(new_post, result, acct) == result

    snippet = state().videos[result.external_id].snippet
    assert snippet["title"] == "Đính chính: Họp báo Chính phủ tháng 11"
    assert snippet["tags"] == [post.marker, "đính chính"]  # the marker stays
    assert snippet["description"] == new_post.payload["snippet"]["description"]


async def test_update_and_retract_keep_the_audio_language_set_in_studio(make_adapter, store) -> None:
    """``snippet.defaultAudioLanguage`` (VideoSnippet in youtube.v3.json) is a property a person may
    set in YouTube Studio; the adapter sends back the snippet it read, so it survives our edits."""
    adapter, post, result, acct = await _published(make_adapter, store)
    state().videos[result.external_id].snippet["defaultAudioLanguage"] = "vi"
    changed = content(post.media, version=2, title="Đính chính: Họp báo Chính phủ tháng 11")
    await adapter.update(await adapter.render(changed, changed.targets[0], acct), result, acct)
    assert state().videos[result.external_id].snippet["defaultAudioLanguage"] == "vi"
    await adapter.retract(result, acct)
    assert state().videos[result.external_id].snippet["defaultAudioLanguage"] == "vi"


async def test_retract_sets_private_and_drops_the_marker(make_adapter, store) -> None:
    adapter, post, result, acct = await _published(make_adapter, store)
    await adapter.retract(result, acct)
    video = state().videos[result.external_id]
    assert video.status["privacyStatus"] == "private"
    assert "publishAt" not in video.status
    assert post.marker not in video.snippet["tags"]
    assert "chuyển đổi số" in video.snippet["tags"]  # the content's own tags stay

    assert await adapter.find_existing(post, acct) is None
    again = await adapter.publish(post, acct)  # re-approved later: a new public video
    assert again.external_id != result.external_id
    assert state().videos[again.external_id].status["privacyStatus"] == "public"


async def test_retract_deletes_when_the_account_says_so(make_adapter, store) -> None:
    acct = account(retract_mode="delete")
    adapter, _, result, acct = await _published(make_adapter, store, acct)
    await adapter.retract(result, acct)
    assert result.external_id not in state().videos
    await adapter.retract(result, acct)  # already gone: still retracted, no error


async def test_quota_exceeded_waits_for_the_pacific_midnight(make_adapter, store) -> None:
    state().limits["videos.insert"] = 0
    adapter, _ = make_adapter()
    video = put_video(store, CHUNK)
    acct = account()
    post = await adapter.render(content([video]), content([video]).targets[0], acct)

    with pytest.raises(TransientError) as caught:
        await adapter.publish(post, acct)

    assert caught.value.code == "quotaExceeded"
    assert caught.value.retry_at == _next_pacific_midnight()
    assert state().sessions == {}
    # The tracker now knows: the next try does not even ask the platform.
    calls = len(sandbox.list("youtube", "upload_session"))
    with pytest.raises(TransientError):
        await adapter.publish(post, acct)
    assert len(sandbox.list("youtube", "upload_session")) == calls


async def test_the_local_tracker_holds_uploads_past_the_daily_allowance(make_adapter, store) -> None:
    adapter, post, _, acct = await _published(make_adapter, store, youtube_daily_uploads=1)
    second = await adapter.render(content(post.media, id="tin-thu-hai"), content(post.media).targets[0], acct)
    with pytest.raises(TransientError) as caught:
        await adapter.publish(second, acct)
    assert caught.value.retry_at == _next_pacific_midnight()
    assert len(state().sessions) == 1  # the platform was never asked


async def test_upload_limit_exceeded_is_transient_until_the_reset(make_adapter, store) -> None:
    state().uploads_per_channel_day = 0
    with pytest.raises(TransientError) as caught:
        await _published(make_adapter, store)
    assert caught.value.code == "uploadLimitExceeded"
    assert caught.value.retry_at == _next_pacific_midnight()


async def test_expired_access_tokens_are_refreshed(make_adapter, store) -> None:
    adapter, _, result, acct = await _published(make_adapter, store)
    tokens = len(sandbox.list("youtube", "token"))
    sandbox.clock_offset += timedelta(hours=1, minutes=5)  # the access token expired on the server
    assert await adapter.confirm(result, acct) is not None
    assert len(sandbox.list("youtube", "token")) == tokens + 1


async def test_a_403_rate_limit_without_a_reset_time_is_left_to_the_backoff(make_adapter, store) -> None:
    adapter, _, result, acct = await _published(make_adapter, store)
    body = {
        "error": {
            "code": 403,
            "message": "Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded"}],
        }
    }
    sandbox.plan(Fault("youtube", status=403, body=body))
    with pytest.raises(TransientError) as caught:
        await adapter.confirm(result, acct)
    assert caught.value.code == "rateLimitExceeded"
    assert caught.value.retry_at is None  # not a quota: the runtime's backoff decides


async def test_invalid_metadata_is_permanent(make_adapter, store) -> None:
    with pytest.raises(PermanentError) as caught:
        await _published(make_adapter, store, account(category_id="999"))
    assert caught.value.code == "invalidCategoryId"
    assert not isinstance(caught.value, TransientError)


async def test_an_access_token_never_reaches_the_logs(make_adapter, store, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await _published(make_adapter, store)
    tokens = list(state().tokens)
    assert tokens
    logs = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert all(t not in logs for t in tokens)
    assert "GOCSPX-bi-mat-khong-in-ra" not in logs
    assert "1//refresh-kenh-bo" not in logs
