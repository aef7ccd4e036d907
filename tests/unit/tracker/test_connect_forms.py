"""Every Connect flow: its form is labelled in both languages, its secret is a password input, and
its authorisation URL carries the state and the PKCE challenge but never the app's secret."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from services.tracker.connect_flow import Start, challenge_of
from services.tracker.connect_registry import FLOWS, form_fields
from services.tracker.i18n import LABELS
from services.tracker.settings import TrackerSettings

pytestmark = pytest.mark.unit

SECRET = "Zq7tLxP2vN9sKd4WmR8c"
APPS = {
    "zalo": {"app_id": "4318569247120", "secret_key": SECRET},
    "facebook": {"app_id": "802345678901234", "app_secret": SECRET},
    "youtube": {"client_id": "318273645091-4k2j.apps.googleusercontent.com", "client_secret": SECRET},
    "x": {"client_id": "M1ZwTjRkVGhQN2xRcUVnOWNjYnE6MTpjaQ", "client_secret": SECRET},
}


@pytest.mark.parametrize("channel", sorted(FLOWS))
def test_the_form_is_labelled_and_its_secret_is_a_password(channel: str) -> None:
    fields = form_fields(FLOWS[channel])
    for key in (f"connect_{channel}", f"connect_{channel}_help", *(f.name for f in fields)):
        assert key in LABELS and all(LABELS[key]), key
    model = FLOWS[channel].request_model.model_fields
    assert {f.name for f in fields if f.secret} == {n for n, i in model.items() if i.annotation is SecretStr}
    assert any(f.secret for f in fields)


@pytest.mark.parametrize("channel", sorted(FLOWS))
def test_the_authorisation_url_carries_state_and_challenge_never_the_secret(channel: str) -> None:
    flow = FLOWS[channel]
    body = flow.request_model(
        name="tai-khoan-da-nang", unit="Sở Thông tin và Truyền thông Đà Nẵng", **APPS[channel]
    )
    challenge = challenge_of("v" * 64)
    redirect = f"https://loa.bo.gov.vn/accounts/connect/{channel}/callback"
    url = flow.authorize_url(
        TrackerSettings(mode="development"), body, Start("trạng-thái", challenge, redirect)
    )
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["trạng-thái"] and query["redirect_uri"] == [redirect]
    assert SECRET not in url
    if channel != "facebook":  # Facebook's manual Login flow has no PKCE: the secret stays server-side
        assert query["code_challenge"] == [challenge]
