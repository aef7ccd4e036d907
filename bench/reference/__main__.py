"""``python -m bench.reference --accounts FILE --database FILE --group GROUP [--client CLIENT]``: run
the reference publisher until SIGTERM or SIGINT. Kafka, MinIO and the topic prefix come from the environment
(``LOA_*``, as every service); ``FILE`` is JSON ``{"account": {"url": ..., "secret": ...}}``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from pathlib import Path

from bench.reference.publisher import ReferencePublisher
from bench.reference.request import CLIENTS
from loa.channels import Account, Secret
from services.webhook.settings import WebhookSettings


def accounts(path: Path) -> dict[str, Account]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: Account("webhook", name, {"secret": Secret(e["secret"])}, {"url": e["url"]})
        for name, e in entries.items()
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--workers", type=int, default=8, help="HTTP worker threads")
    parser.add_argument("--client", choices=CLIENTS, default="http.client")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s reference %(levelname)s %(message)s")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    publisher = ReferencePublisher(
        WebhookSettings(),
        accounts(args.accounts),
        args.database,
        args.group,
        args.workers,
        client=args.client,
    )
    await publisher.run(stop)


if __name__ == "__main__":
    asyncio.run(main())
