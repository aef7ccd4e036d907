"""Graph API errors as Loa errors: auth parks, throttling waits, duplicates are checked, no token leaks."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from loa.channels import Account, AuthError, DuplicatePostError, PermanentError, Secret, TransientError
from loa.events import MediaRef
from services.facebook.adapter import FacebookAdapter
from services.sandbox.facebook import Page, error_body, state
from services.sandbox.frame import Fault, sandbox
from tests.channels.facebook.helpers import jpeg, make_content

pytestmark = pytest.mark.integration


async def test_expired_token_is_an_auth_error_until_the_token_changes(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    page.token_error = (
        190,
        463,
        "Error validating access token: Session has expired on Wednesday, 25-Nov-26.",
    )
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    for _ in range(2):  # every call with that token fails the same way
        with pytest.raises(AuthError) as caught:
            await adapter.publish(post, account)
        assert caught.value.code == "190/463"
        assert caught.value.graph.type == "OAuthException"  # type: ignore[attr-defined]
        assert caught.value.graph.fbtrace_id  # type: ignore[attr-defined]
    assert not [p for p in state().posts.values() if p.page_id == page.id]

    # An admin pastes a new page token: the same job goes out, once.
    new_token = "EAAG-renewed-" + page.token[-20:]
    page.token, page.token_error = new_token, None
    renewed = Account(
        account.channel, account.name, {"page_access_token": Secret(new_token)}, account.options
    )
    result = await adapter.publish(post, renewed)
    assert [p.id for p in state().posts.values() if p.page_id == page.id] == [result.external_id]


async def test_a_token_of_another_page_is_a_permission_error(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    wrong = Account(account.channel, account.name, account.credentials, {"page_id": "100000000000001"})
    content = make_content(account=account)
    with pytest.raises(AuthError) as caught:
        await adapter.publish(await adapter.render(content, content.targets[0], account), wrong)
    assert caught.value.code == "200"


@pytest.mark.parametrize(
    ("code", "headers", "wait"),
    [
        (4, {"X-App-Usage": '{"call_count":100,"total_cputime":12,"total_time":40}'}, timedelta(minutes=10)),
        (
            17,
            {
                "X-Business-Use-Case-Usage": '{"1":[{"type":"pages","call_count":100,"total_cputime":5,'
                '"total_time":9,"estimated_time_to_regain_access":7}]}'
            },
            timedelta(minutes=7),
        ),
        (32, {"Retry-After": "120"}, timedelta(minutes=2)),
    ],
)
async def test_throttling_is_transient_with_the_platforms_reset_time(
    adapter: FacebookAdapter,
    account: Account,
    page: Page,
    code: int,
    headers: dict[str, str],
    wait: timedelta,
) -> None:
    body = error_body(code, f"(#{code}) Application request limit reached", type_="OAuthException")
    sandbox.plan(Fault("facebook", status=400, body=body, headers=headers, count=2, path=f"/{page.id}/feed"))
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    for _ in range(2):  # a burst of throttled answers
        before = datetime.now(UTC)
        with pytest.raises(TransientError) as caught:
            await adapter.publish(post, account)
        assert caught.value.code == str(code)
        assert caught.value.retry_at is not None
        assert before + wait - timedelta(seconds=5) <= caught.value.retry_at <= datetime.now(UTC) + wait
    result = await adapter.publish(post, account)
    assert [p.id for p in state().posts.values() if p.page_id == page.id] == [result.external_id]


async def test_server_errors_without_a_graph_error_are_transient(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    sandbox.plan(Fault("facebook", status=502, body="<html>Bad Gateway</html>", path=f"/{page.id}/feed"))
    content = make_content(account=account)
    with pytest.raises(TransientError):
        await adapter.publish(await adapter.render(content, content.targets[0], account), account)


async def test_duplicate_of_our_own_post_is_found_by_find_existing(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    first = await adapter.publish(post, account)
    # The answer was lost, the job retried without progress: Facebook refuses the copy (506)...
    retry = await adapter.render(content, content.targets[0], account)
    with pytest.raises(DuplicatePostError) as caught:
        await adapter.publish(retry, account)
    assert caught.value.code == "506"
    # ...and the runtime asks find_existing, which finds the first one: it is published.
    found = await adapter.find_existing(retry, account)
    assert found is not None
    assert found.external_id == first.external_id


async def test_an_invalid_parameter_is_permanent(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    body = error_body(100, "(#100) Tham số không hợp lệ", type_="OAuthException")
    sandbox.plan(Fault("facebook", status=400, body=body, path=f"/{page.id}/feed"))
    content = make_content(account=account)
    with pytest.raises(PermanentError) as caught:
        await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    assert not isinstance(caught.value, DuplicatePostError)
    assert caught.value.code == "100"


async def test_a_policy_block_waits_hours_then_the_post_goes(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    """368 "Temporarily blocked for policies violations: wait and retry"
    (https://developers.facebook.com/docs/graph-api/guides/error-handling)."""
    body = error_body(368, "Trang tạm thời bị chặn đăng bài", type_="OAuthException")
    sandbox.plan(Fault("facebook", status=400, body=body, path=f"/{page.id}/feed"))
    content = make_content(account=account)
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(TransientError) as caught:
        await adapter.publish(post, account)
    assert caught.value.code == "368"
    assert caught.value.retry_at is not None
    assert caught.value.retry_at >= datetime.now(UTC) + timedelta(hours=5)
    result = await adapter.publish(post, account)
    assert [p.id for p in state().posts.values() if p.page_id == page.id] == [result.external_id]


async def test_is_transient_makes_any_code_a_retry(
    adapter: FacebookAdapter, account: Account, page: Page
) -> None:
    """``is_transient`` of the error object, as facebook-python-business-sdk reads it
    (facebook_business/exceptions.py ``api_transient_error``)."""
    body = error_body(100, "(#100) Lỗi tạm thời, thử lại sau", type_="OAuthException")
    body["error"]["is_transient"] = True
    sandbox.plan(Fault("facebook", status=400, body=body, path=f"/{page.id}/feed"))
    content = make_content(account=account)
    with pytest.raises(TransientError) as caught:
        await adapter.publish(await adapter.render(content, content.targets[0], account), account)
    assert caught.value.code == "100"


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (6000, 6000, TransientError),  # "Retry several times"
        (100, 1363042, AuthError),  # "No Permission to Upload Video ... Get valid access token"
    ],
)
async def test_video_upload_errors_follow_metas_video_error_codes(
    adapter: FacebookAdapter,
    account: Account,
    page: Page,
    put_media: Callable[[bytes, str], MediaRef],
    code: int,
    subcode: int,
    kind: type[Exception],
) -> None:
    """Session start phase of https://developers.facebook.com/docs/video-api/reference/error-codes."""
    body = error_body(code, "Không thể tải video lên", subcode=subcode, type_="GraphException")
    sandbox.plan(Fault("facebook", status=400, body=body, path=f"/{page.id}/videos"))
    content = make_content(account=account, media=[put_media(b"\x00" * 4096, "video/mp4")])
    post = await adapter.render(content, content.targets[0], account)
    with pytest.raises(kind) as caught:
        await adapter.publish(post, account)
    assert caught.value.code == f"{code}/{subcode}"  # type: ignore[attr-defined]
    assert "video_upload" not in post.progress


async def test_the_page_token_never_appears_in_logs_or_errors(
    adapter: FacebookAdapter,
    account: Account,
    page: Page,
    caplog: pytest.LogCaptureFixture,
    put_media: Callable[[bytes, str], MediaRef],
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "httpx", "httpcore", "services", "facebook"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    seen: list[str] = []
    content = make_content(account=account, media=[put_media(jpeg(7), "image/jpeg")])
    post = await adapter.render(content, content.targets[0], account)
    result = await adapter.publish(post, account)  # GETs and POSTs, a multipart upload
    await adapter.find_existing(post, account)
    page.token_error = (190, 463, "Error validating access token: Session has expired.")
    for call in (adapter.publish(post, account), adapter.retract(result, account)):
        try:
            await call
        except Exception as e:
            seen += [str(e), repr(e), "".join(traceback.format_exception(e)), str(getattr(e, "excerpt", ""))]
    page.token_error = None
    broken = FacebookAdapter(adapter.context, adapter.settings)
    broken.graph.base_url = "http://127.0.0.1:9"  # nothing listens: a connection error
    try:
        await broken.graph.transfer_chunk(page.token, page.id, "1", 0, io.BytesIO(b"x" * 10), 10)
    except TransientError as e:
        seen += [str(e), "".join(traceback.format_exception(e))]
    await broken.aclose()

    assert len(seen) >= 6
    text = "\n".join(seen + [r.getMessage() for r in caplog.records] + [repr(account), str(post)])
    assert page.token not in text
    assert page.token[:16] not in text
