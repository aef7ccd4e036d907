"""The platforms an account can be connected with, and the fields each one's form asks for."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from services.facebook.connect import FacebookFlow
from services.tracker.connect_flow import Flow
from services.x.connect import XFlow
from services.youtube.connect import YouTubeFlow
from services.zalo.connect import ZaloFlow

FLOWS: dict[str, Flow] = {f.channel: f for f in (ZaloFlow(), FacebookFlow(), YouTubeFlow(), XFlow())}
COMMON = ("name", "unit")


@dataclass(frozen=True)
class FormField:
    """One input of a Connect form: a secret is a password input, sent once, never shown."""

    name: str
    secret: bool
    required: bool
    pattern: str | None


def form_fields(flow: Flow) -> list[FormField]:
    """The app's fields of ``flow``'s request (the account's name and unit are common to all)."""
    out = []
    for name, info in flow.request_model.model_fields.items():
        if name in COMMON:
            continue
        pattern = next((str(m.pattern) for m in info.metadata if getattr(m, "pattern", None)), None)
        out.append(FormField(name, info.annotation is SecretStr, info.is_required(), pattern))
    return out


def connect_forms(channels: frozenset[str]) -> dict[str, list[FormField]]:
    """The Connect forms of the accounts page: the flows of the channels this tracker serves."""
    return {c: form_fields(f) for c, f in FLOWS.items() if c in channels}
