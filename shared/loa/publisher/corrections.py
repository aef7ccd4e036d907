"""The link step of a correction at intake: one more job beside the correction's own post.

The job is the same content, version and channel on ``link_account(account)`` with operation
``link``: the tracker sees a delivery of its own (``<content>:<channel>:<account>~đính-chính``) and
the job store keys it apart from the post with no new column. ``linking.py`` runs it.
"""

from __future__ import annotations

from loa.channels import Account, ChannelAdapter, Post, handover_at
from loa.channels.corrections import LINK_OPERATION, link_account
from loa.events import Content, ContentKind, Hold, Target, utcnow
from loa.publisher.holds import held_note
from loa.publisher.job import Job, NewJob
from loa.publisher.lifecycle import S


def link_step(
    adapter: ChannelAdapter,
    content: Content,
    target: Target,
    existing: list[Job],
    hold: Hold | None,
    account: Account | None = None,
) -> NewJob | None:
    """The link step's job for a correction on ``target``, unless the channel links nothing there
    (``account``: the target's account, None when not configured) or the step exists already (a
    later version of the correction does not link twice)."""
    if content.kind != ContentKind.CORRECTION or content.corrects is None or existing:
        return None
    if not adapter.links_correction(content, target, account):
        return None
    step_account = link_account(target.account)
    post = Post(
        content_id=content.id,
        version=content.version,
        channel=adapter.name,
        account=step_account,
        marker=f"loa-dinh-chinh:{content.id}",
        title=content.title,
        payload={
            "corrects": content.corrects,
            "url": adapter.context.canonical_url(content),
            "title": content.title,
            "summary": content.summary,
            "options": dict(target.options),
        },
        due_at=content.publish_at,
    )
    return NewJob(
        content_id=content.id,
        version=content.version,
        account=step_account,
        post=post,
        state=S.HELD if hold is not None else S.SCHEDULED,
        due_at=handover_at(content.publish_at, utcnow(), None),
        operation=LINK_OPERATION,
        note=held_note(hold) if hold is not None else f"liên kết với bản gốc {content.corrects}",
        unit=content.unit,
        held_at=utcnow() if hold is not None else None,
    )
