"""ID token claims → a Loa person; the OIDC settings a production tracker refuses."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from loa.access.people import NotAPersonError, grant_of, person_of
from loa.access.principal import Grant, Kind, Role
from services.tracker.settings import TrackerSettings

pytestmark = pytest.mark.unit
SECRET = "client-secret-0123456789abcdef-0123456789"


def test_groups_of_the_documented_form_are_grants_and_others_are_ignored() -> None:
    assert grant_of("loa:editor:so-y-te") == Grant(Role.EDITOR, "so-y-te")
    assert grant_of("loa:operator:*") == Grant(Role.OPERATOR, "*")
    others = ("nhan-vien", "loa:editor", "loa:boss:so-y-te", "loa:editor:Sở Y tế", "xyz:admin:*", "loa:x:")
    for other in others:
        assert grant_of(other) is None, other


def test_a_verified_email_names_the_person_and_the_display_name_is_nfc() -> None:
    decomposed = "Nguye\u0302\u0303n Thi\u0323 Hoa\u0300"  # as some IdPs send it: combining marks
    person = person_of(
        {
            "sub": "c2a1-77",
            "email": "BienTap.SoYTe@Loa.example",
            "email_verified": True,
            "name": decomposed,
            "groups": ["loa:editor:so-y-te", "loa:viewer:so-y-te", "nhan-vien"],
        },
        "groups",
    )
    assert person.name == "bientap.soyte@loa.example"
    assert person.kind is Kind.PERSON
    assert person.display_name == "Nguyễn Thị Hoà"
    assert person.grants == {Grant(Role.EDITOR, "so-y-te"), Grant(Role.VIEWER, "so-y-te")}


def test_an_unverified_email_is_not_a_name_the_subject_is() -> None:
    claims = {"sub": "c2a1-77", "email": "someone@else.example", "groups": ["loa:viewer:so-y-te"]}
    assert person_of(claims, "groups").name == "c2a1-77"
    assert person_of({**claims, "email_verified": False}, "groups").name == "c2a1-77"


def test_no_loa_group_no_person_and_the_reason_names_the_claim() -> None:
    with pytest.raises(NotAPersonError, match="the roles claim gives no Loa role"):
        person_of({"sub": "x", "roles": ["nhan-vien"]}, "roles")
    with pytest.raises(NotAPersonError, match="no subject"):
        person_of({"groups": ["loa:admin:*"]}, "groups")


def test_production_needs_https_and_a_registered_callback_and_the_secret_is_never_shown() -> None:
    client: dict[str, Any] = {"oidc_client_id": "loa-tracker", "oidc_client_secret": SECRET}
    with pytest.raises(ValidationError, match="LOA_OIDC_ISSUER must be an https:// URL in production"):
        TrackerSettings(mode="production", oidc_issuer="http://sso.example.gov.vn/", **client)
    with pytest.raises(ValidationError, match="LOA_OIDC_REDIRECT_URL must be set"):
        TrackerSettings(mode="production", oidc_issuer="https://sso.example.gov.vn/", **client)
    with pytest.raises(ValidationError, match="LOA_OIDC_CLIENT_ID and LOA_OIDC_CLIENT_SECRET are needed"):
        TrackerSettings(oidc_issuer="https://sso.example.gov.vn/", oidc_client_id="x", oidc_client_secret="")
    settings = TrackerSettings(
        mode="production",
        oidc_issuer="https://sso.example.gov.vn/realms/bo",
        oidc_redirect_url="https://loa.example.gov.vn/auth/callback",
        **client,
    )
    assert SECRET not in repr(settings) + str(settings.model_dump())
