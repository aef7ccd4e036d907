"""Loa's webhook publisher and the reference publisher, each alone, at several rates (issue #20;
docs/benchmarks.md, "Session 44"):

    PYTHONPATH=shared:. python -m bench.webhook_by_rate [--rates 4,30,100,200] [--seconds 30]

At each rate, ``--seconds`` of webhook-only contents to the reference alone (``bench.reference.alone``)
and then to Loa's webhook publisher alone (``bench.webhook_alone``), on the shared stack, one after
the other in the same run. Each publisher's CPU per delivery falls as its work comes in larger
rounds (a transaction, a relay round, a poll carry several deliveries), so the figures print beside
the CPU how many deliveries each round carried: the reference's per answer transaction, Loa's
contents per intake transaction and answers per answer transaction. The e2e bench measures both
in one pipeline, where the reference's rounds are as large as the machine's load makes them; here
each sets its own. Over the rates, each publisher's cost is fitted as a cost per delivery plus a
cost per round shared by the round's deliveries (``split``), each less its CPU while idle (polls
and timers, measured before the feed). Prints one line per figure last, and writes
``bench/results/webhook_by_rate.json``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import webhook_alone
from bench.reference import alone as reference_alone
from loa.testing.admin import sign_in_to_kafka_as_admin

RESULTS = Path(__file__).resolve().parent / "results" / "webhook_by_rate.json"


@dataclass(frozen=True)
class RateRun:
    rate: float
    contents: int
    reference: reference_alone.ReferenceRun
    loa: webhook_alone.AloneRun

    @property
    def ratio(self) -> float:
        return self.loa.cpu_ms_per_delivery / self.reference.cpu_ms_per_delivery

    def as_json(self) -> dict[str, object]:
        return asdict(self) | {"ratio": self.ratio}

    def lines(self) -> list[str]:
        tag = f"webhook_by_rate_r{self.rate:g}"
        ref, loa = self.reference, self.loa
        return [
            f"{tag}_reference: {ref.cpu_ms_per_delivery:.2f} ms a delivery",
            f"{tag}_loa: {loa.cpu_ms_per_delivery:.2f} ms a delivery",
            f"{tag}_ratio: {self.ratio:.2f} x",
            f"{tag}_reference_answers_per_tx: {ref.answers_per_tx:.1f} deliveries",
            f"{tag}_loa_contents_per_intake: {loa.rounds.contents_per_intake:.1f} contents",
            f"{tag}_loa_answers_per_tx: {loa.rounds.answers_per_tx:.1f} answers",
            f"{tag}_reference_idle_cpu: {ref.idle_cpu_ms_per_s:.1f} ms/s",
            f"{tag}_loa_idle_cpu: {loa.idle_cpu_ms_per_s:.1f} ms/s",
        ]


@dataclass(frozen=True)
class Split:
    """A publisher's CPU a delivery as ``per_delivery + per_round / deliveries a round``."""

    per_delivery_ms: float
    per_round_ms: float


SPLIT_SPREAD = 3.0
"""The largest round must carry this many times the smallest's deliveries for a split. The
reference, which does not linger, answers 1.0-2.6 deliveries a transaction alone at 4-200/s, and
its cost also falls with the rate at rounds of one (its polls and fetches are shared, the machine's
caches warm): fitted over so narrow a spread it came out at 0.01 ms a delivery, less than its one
HTTP request costs."""


def split(points: list[tuple[float, float]]) -> Split | None:
    """The least-squares ``Split`` of ``(deliveries a round, ms a delivery)`` points; None unless
    the rounds differed enough in size to tell the two costs apart (``SPLIT_SPREAD``)."""
    batches = [batch for batch, _ in points]
    if max(batches) < SPLIT_SPREAD * min(batches):
        return None
    xs, ys = [1 / batch for batch in batches], [ms for _, ms in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    per_round = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return Split(per_delivery_ms=mean_y - per_round * mean_x, per_round_ms=per_round)


def splits(runs: list[RateRun]) -> dict[str, Split | None]:
    return {
        "reference": split([(r.reference.answers_per_tx, r.reference.busy_ms(r.rate)) for r in runs]),
        "loa": split([(r.loa.rounds.contents_per_intake, r.loa.busy_ms(r.rate)) for r in runs]),
    }


def split_lines(fitted: dict[str, Split | None]) -> list[str]:
    lines = []
    for who, s in fitted.items():
        if s is not None:
            lines += [
                f"webhook_by_rate_{who}_per_delivery: {s.per_delivery_ms:.2f} ms",
                f"webhook_by_rate_{who}_per_round: {s.per_round_ms:.2f} ms",
            ]
    return lines


def measure(rate: float, seconds: float) -> RateRun:
    """The reference, then Loa's webhook, each fed ``rate`` contents a second for ``seconds``."""
    contents = max(1, round(rate * seconds))
    return RateRun(rate, contents, reference_alone.measure(contents, rate), webhook_alone.run(contents, rate))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="4,30,100,200", help="contents a second, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each rate is fed")
    args = parser.parse_args()
    try:
        rates = [float(r) for r in args.rates.split(",")]
    except ValueError:
        rates = []
    if not rates or min(rates) <= 0:
        parser.error(f"--rates: positive numbers, comma-separated (not {args.rates!r})")
    sign_in_to_kafka_as_admin()
    runs = [measure(rate, args.seconds) for rate in rates]
    RESULTS.parent.mkdir(exist_ok=True)
    fitted = splits(runs)
    figures = {
        "seconds": args.seconds,
        "runs": [run.as_json() for run in runs],
        "split": {who: asdict(s) if s else None for who, s in fitted.items()},
    }
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    print("\n".join([*(line for run in runs for line in run.lines()), *split_lines(fitted)]))


if __name__ == "__main__":
    main()
