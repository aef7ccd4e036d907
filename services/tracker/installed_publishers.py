"""Where the dashboard finds the publishers when ``LOA_TRACKER_PUBLISHER_HEALTH`` does not say:
each installed channel's publisher on this host, at the port its adapter declares.

The ports are the adapters' (``metrics_port``), and an adapter's module imports its platform's SDK
(tweepy, the Google API client, facebook-sdk, dkimpy and dnspython, ...): read in the tracker, they
stayed resident for the process's life, ~19 MB of its RSS for a handful of integers (issue #20,
docs/benchmarks.md). A child process reads them (``python -m services.tracker.installed_publishers``
prints them as JSON) and exits, once, at the tracker's start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

log = logging.getLogger(__name__)

TIMEOUT_S = 60.0


def readiness_urls() -> dict[str, str]:
    """Each installed channel's publisher ``/readyz`` on this host (imports every adapter)."""
    from loa.channels import registry

    return {
        name: f"http://127.0.0.1:{adapter.metrics_port}/readyz"
        for name, adapter in sorted(registry.load_entry_points().items())
        if adapter.metrics_port
    }


async def installed_publishers() -> dict[str, str]:
    """``readiness_urls`` read by a child process; none (and a warning) if it fails."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), TIMEOUT_S)
    except TimeoutError:
        child.kill()
        await child.wait()
        log.warning("no publishers on the dashboard: listing the channels took over %.0f s", TIMEOUT_S)
        return {}
    if child.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        log.warning("no publishers on the dashboard: listing the channels failed: %s", last[0])
        return {}
    urls: dict[str, str] = json.loads(out)
    return urls


if __name__ == "__main__":
    sys.stdout.write(json.dumps(readiness_urls()))
