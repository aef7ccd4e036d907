"""Whole-stack fault drills (issue #25): ``python bench/drill.py [--only NAME,...]``.

Starts a private Kafka, MinIO and PostgreSQL on free ports (``loa.testing.private_stack``; the shared
stack on the default ports is never touched), the sandbox, the tracker and one publisher per channel
on them, then runs each drill of ``bench/drills/faults.py`` in turn. At the end it judges the whole
run from what the emulators received and what the tracker says (``bench/drills/verdict.py``) and
prints the figures last, one per line as ``name: value unit``, then JSON (also written to
``bench/results/drill.json``). Exits 1 if any post is duplicated, lost, early or still up after its
retraction, or any delivery is not final.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.drills.faults import DRILLS, RECOVERY_LIMIT
from bench.drills.rig import Rig
from bench.drills.verdict import Verdict, examples, judge
from bench.drills.verdict import rows as verdict_rows
from loa.settings import REPO_ROOT
from loa.testing.private_stack import PrivateStack

RESULTS = REPO_ROOT / "bench" / "results" / "drill.json"
SAMPLES = 5
"""Examples of each fault kept in the figures (the JSON has every one)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(DRILLS), help=f"comma-separated, of: {', '.join(DRILLS)}")
    args = parser.parse_args(argv)
    args.drills = [d for d in args.only.split(",") if d]
    if unknown := [d for d in args.drills if d not in DRILLS]:
        parser.error(f"--only: no drill named {', '.join(unknown)} (known: {', '.join(DRILLS)})")
    return args


async def drive(private: PrivateStack, workdir: Path, names: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    rig = await Rig.up(private, workdir / "services")
    results: dict[str, Any] = {"setup_s": round(time.monotonic() - started, 1), "drills": {}}
    try:
        for name in names:
            print(f"-- drill {name}", flush=True)
            began = time.monotonic()
            outcome = await DRILLS[name](rig)
            outcome["took_s"] = round(time.monotonic() - began, 1)
            results["drills"][name] = outcome
            print(f"   {json.dumps(outcome, default=str)}", flush=True)
        await asyncio.sleep(2.0)  # the emulators' last records, the tracker's last events
        verdict = judge(list(rig.fed.values()), await rig.deliveries(), rig.sandbox.records())
        results["verdict"] = asdict(verdict)
        results["clean"] = verdict.clean
    finally:
        await rig.down()
    return results


def figures(results: dict[str, Any]) -> list[tuple[str, Any, str]]:
    rows: list[tuple[str, Any, str]] = verdict_rows(Verdict(**results["verdict"]))
    for name, outcome in results["drills"].items():
        rows.append((f"recovery_{name}", outcome.get("recovery_s"), "s"))
    return rows


def report(results: dict[str, Any]) -> None:
    for line in examples(Verdict(**results["verdict"]), SAMPLES):
        print(f"   {line}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    for name, value, unit in figures(results):
        shown = f"not within {RECOVERY_LIMIT:.0f}" if value is None else value
        print(f"{name}: {shown} {unit}".rstrip())
    print(json.dumps({name: value for name, value, _ in figures(results)}))


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="loa-drill-"))
    began = time.monotonic()
    with PrivateStack.started(workdir, test_broker=False) as private:  # its broker's speed is measured
        results = asyncio.run(drive(private, workdir, args.drills))
    results["command"] = "PYTHONPATH=shared:. python bench/drill.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    results["total_s"] = round(time.monotonic() - began, 1)
    report(results)
    if results["clean"]:
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    print(f"faults found; the services' logs are in {workdir / 'services'}")
    return 1
