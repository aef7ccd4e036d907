"""Term lookup for the WordPress mode with a fake of our own ``call`` port: a term the account may
not create is left out (the post still goes), a term another publisher created meanwhile is found
again, and WordPress's HTML-escaped names match."""

from __future__ import annotations

from typing import Any

import pytest

from loa.channels import AuthError, PermanentError
from services.website.wordpress_terms import term_id

pytestmark = pytest.mark.unit


class FakeWordPress:
    def __init__(self, terms: list[dict[str, Any]], create: Exception | None = None) -> None:
        self.terms, self.create = terms, create
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, method: str, path: str, action: str, **kwargs: Any) -> Any:
        self.calls.append((method, path))
        if method == "GET":
            return self.terms
        if self.create is not None:
            error, self.create = self.create, None
            self.terms = [{"id": 7, "name": kwargs["json"]["name"]}]  # made by someone else meanwhile
            raise error
        return {"id": 9}


async def test_an_escaped_name_matches_without_creating() -> None:
    wp = FakeWordPress([{"id": 3, "name": "Đắk Lắk &amp; Tây Nguyên"}])
    assert await term_id(wp, "tags", "Đắk Lắk & Tây Nguyên") == 3
    assert wp.calls == [("GET", "/tags")]


async def test_a_term_the_account_may_not_create_is_left_out() -> None:
    wp = FakeWordPress([], create=AuthError("403 rest_cannot_create", code="rest_cannot_create"))
    assert await term_id(wp, "categories", "Sở Y tế") is None


async def test_a_term_created_meanwhile_is_found_again() -> None:
    wp = FakeWordPress([], create=PermanentError("400 term_exists", code="term_exists"))
    assert await term_id(wp, "tags", "Dịch vụ công") == 7
    assert wp.calls == [("GET", "/tags"), ("POST", "/tags"), ("GET", "/tags")]
