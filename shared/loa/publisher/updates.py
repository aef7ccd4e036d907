"""A newer version of a content whose older version is online: edit the post, or keep it and say why."""

from __future__ import annotations

from typing import NamedTuple

from loa.channels import Account, ChannelAdapter, PublishResult, UnsupportedError
from loa.publisher.job import Job
from loa.publisher.lifecycle import S
from loa.publisher.store.jobs import JobStore


class OlderVersions(NamedTuple):
    online: PublishResult | None
    """What the newest older version made on the platform (None: nothing online)."""
    in_flight: bool
    """An older version is in ``publishing``: this one waits for its answer."""


async def older_versions(store: JobStore, job: Job) -> OlderVersions:
    """What this job's older versions left on the platform, and whether one is still in flight."""
    if job.version == 1:
        return OlderVersions(None, in_flight=False)
    async with store.tx() as conn:
        versions = await store.versions(conn, job.content_id, job.account)
    others = [j for j in versions if j.version < job.version]
    in_flight = any(j.state is S.PUBLISHING for j in others)
    with_result = [j for j in others if j.result is not None and j.state in (S.PUBLISHED, S.SCHEDULED)]
    return OlderVersions(with_result[-1].result if with_result else None, in_flight)


async def update_online(
    adapter: ChannelAdapter, job: Job, previous: PublishResult, account: Account
) -> tuple[PublishResult, str | None]:
    """Edit the post already online; a channel that cannot edit keeps it, with a note saying so."""
    assert job.post is not None
    if adapter.supports_update:
        try:
            return await adapter.update(job.post, previous, account), None
        except UnsupportedError as e:
            reason = e.message
    else:
        reason = f"{adapter.name} cannot edit a published post"
    return previous, f"{reason}; the earlier version stays online"
