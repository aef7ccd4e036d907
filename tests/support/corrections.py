"""A correction's link step as the runtime hands it to an adapter, for the channels' tests."""

from __future__ import annotations

from datetime import date

from loa.channels import Account, ChannelAdapter, PublishResult
from loa.channels.corrections import CorrectionLink
from loa.events import Content, ContentKind
from loa.publisher.corrections import link_step


def as_correction(content: Content, corrects: str, title: str) -> Content:
    """``content`` made a correction of ``corrects`` (kind correction), with its own id and title."""
    fields = content.model_dump() | {
        "id": f"dc-{content.id}",
        "kind": ContentKind.CORRECTION,
        "corrects": corrects,
        "title": title,
    }
    return Content.model_validate(fields)


def correction_link(
    adapter: ChannelAdapter,
    correction: Content,
    original: PublishResult,
    own: PublishResult | None = None,
    corrected_on: date = date(2026, 12, 4),
    account: Account | None = None,
) -> CorrectionLink:
    """The link step the runtime makes for ``correction``'s first target (``loa.publisher.corrections``);
    ``account``: that target's account, for a channel that links only on some (the website)."""
    step = link_step(adapter, correction, correction.targets[0], [], None, account)
    assert step is not None and step.post is not None, f"{adapter.name} makes no link step for it"
    return CorrectionLink(post=step.post, original=original, correction=own, corrected_on=corrected_on)


async def linked_once(adapter: ChannelAdapter, link: CorrectionLink, account: Account) -> PublishResult:
    """What the runtime relies on after an interruption: nothing found before the link is made, the
    same link found after it."""
    assert await adapter.find_correction_link(link, account) is None
    made = await adapter.link_correction(link, account)
    found = await adapter.find_correction_link(link, account)
    assert found is not None and found.external_id == made.external_id
    return made
