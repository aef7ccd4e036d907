"""The job store of one channel: jobs, their state changes with status events, and leases.

Built in layers, one file each: ``reads.py`` (reading jobs), ``writes.py`` (creating and changing
them, each change with its status event from ``status_events.py``), ``claims.py`` (leases).
Which state changes are legal is ``loa.publisher.lifecycle``'s.
"""

from __future__ import annotations

from loa.publisher.job import Job, LostJobError, NewJob
from loa.publisher.store.claims import JobClaims

__all__ = ["Job", "JobStore", "LostJobError", "NewJob"]


class JobStore(JobClaims):
    """The publisher's durable job store for one channel."""
