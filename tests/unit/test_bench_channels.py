"""The e2e bench (``bench/e2e.py``) covers every channel: each channel the entry points, the Procfile
and the sandbox know is benched or named with the reason it is not; and its share of the load keeps
e-mail and TikTok within their platforms' limits."""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from bench.e2e.fair import OVERLOAD, OVERLOAD_CEILING, auto_overload_rate, peak_before
from bench.e2e.harness import make_pools, parse_args, phase_plan, picker, settled
from bench.e2e.mailpit import arrivals, content_of, match
from bench.e2e.measure import PLATFORM_RECORDS, phase_figures
from bench.e2e.observe import Delivery
from bench.e2e.report import markers, results_path
from bench.e2e.shares import DEFAULT_CAPS, EMAIL_MESSAGES_PER_SECOND, check_caps, shares_at
from bench.e2e.stack import BENCHED, CHANNELS, EMULATED, NOT_BENCHED, PRESS_LIST_SIZE, channel_limits
from deploy.local.supervise import parse_procfile
from loa.channels import registry
from loa.settings import REPO_ROOT
from services.sandbox.tiktok import DAILY_POSTS, PER_MINUTE

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)


def _procfile_channels() -> set[str]:
    text = (REPO_ROOT / "deploy" / "local" / "services.Procfile").read_text("utf-8")
    found = set()
    for service in parse_procfile(text):
        name = service.command.split("services.", 1)[-1].split()[0] if "services." in service.command else ""
        if (REPO_ROOT / "services" / name / "adapter.py").is_file():
            found.add(name)
    return found


def test_every_channel_is_benched_or_named_with_its_reason() -> None:
    registered = set(registry.load_entry_points())
    assert registered, "no loa.channels entry point is installed: run `make setup`"
    assert not set(BENCHED) & set(NOT_BENCHED)
    assert set(BENCHED) | set(NOT_BENCHED) == registered, "bench/e2e/stack.py BENCHED vs the entry points"
    assert set(BENCHED) | set(NOT_BENCHED) == _procfile_channels(), "vs deploy/local/services.Procfile"
    assert all(reason.strip() for reason in NOT_BENCHED.values())


def test_each_emulated_channel_has_its_emulator_and_a_receive_record() -> None:
    """The observer cross-checks each benched platform's own receive time: the sandbox's records for
    the emulated ones, Mailpit's for e-mail."""
    assert set(EMULATED) == set(BENCHED) - {"email"}
    assert set(PLATFORM_RECORDS) == set(EMULATED)
    for channel in EMULATED:
        assert channel == importlib.import_module(f"services.sandbox.{channel}").PLATFORM


def _default_run() -> tuple[dict[str, list[str]], list[tuple[str, float]], float]:
    args = parse_args([])
    rates = [float(r) for r in args.rates.split(",")]
    pools, _ = make_pools(rates, args.seconds, rates[0], rates[0], args.caps)
    phases = list(zip(*phase_plan(rates, rates[0], rates[0]), strict=True))
    return pools, phases, args.seconds


def _posts(channel: str) -> dict[str, list[float]]:
    """Account → the second of each post it is offered over the default run (phases back to back)."""
    pools, phases, seconds = _default_run()
    offered: dict[str, list[float]] = defaultdict(list)
    start = 0.0
    for phase, rate in phases:
        pick = picker(pools, phase, shares_at(rate, DEFAULT_CAPS))
        for n in range(int(rate * seconds)):
            account = pick(n).get(channel)
            if account is not None:
                offered[account].append(start + n / rate)
        start += seconds
    return offered


def test_tiktok_is_offered_at_most_6_inits_a_minute_and_15_posts_a_day_per_creator() -> None:
    posts = _posts("tiktok")
    assert sum(len(t) for t in posts.values()) >= len(_default_run()[1])  # TikTok is in every phase
    for account, times in posts.items():
        assert len(times) <= DAILY_POSTS, account  # the whole run is well within one day
        for t in times:
            assert sum(t <= u < t + 60 for u in times) <= PER_MINUTE["init"], account
    assert channel_limits()["tiktok"] == (PER_MINUTE["init"], 60.0)


def test_email_messages_stay_within_the_pace_of_an_smtp_account_and_lists_within_10_a_minute() -> None:
    pools, phases, _ = _default_run()
    for phase, rate in phases:
        shares = shares_at(rate, DEFAULT_CAPS)
        lists_rate = rate / shares.every["email"]
        assert lists_rate * PRESS_LIST_SIZE <= EMAIL_MESSAGES_PER_SECOND / 2, phase
    for account, times in _posts("email").items():
        for t in times:
            assert sum(t <= u < t + 60 for u in times) <= 10, account
    assert len(pools["email"]) == len(set(pools["email"]))


def test_every_content_still_targets_the_five_channels() -> None:
    shares = shares_at(200, DEFAULT_CAPS)
    assert all(set(CHANNELS) <= set(shares.targets(n)) for n in range(50))
    assert shares.every["tiktok"] == 1000 and shares.every["email"] == 400
    assert shares.deliveries(2001) == 5 * 2001 + 3 + 6
    assert shares_at(0.1, DEFAULT_CAPS).every == dict.fromkeys(BENCHED, 1)


def test_a_rate_that_would_outrun_the_smtp_pace_is_refused_naming_the_flags() -> None:
    reason = check_caps({"email": 2.0, "tiktok": 0.2}, 10)
    assert reason is not None and "--email-rate × --press-list = 20 messages/s" in reason
    assert check_caps({"email": 0.5, "tiktok": 0.2}, 10) is None
    with pytest.raises(SystemExit):
        parse_args(["--email-rate", "2", "--press-list", "10"])


def _delivery(content: str, channel: str, published: datetime | None) -> Delivery:
    return Delivery(content, channel, "published" if published else "publishing", T0, published, "x", None)


def test_mailpit_receive_times_are_matched_to_their_delivery_by_message_id() -> None:
    assert content_of("loa.bench-0000042.dd96acbc1c0dc4bb@loa.example.vn") == "bench-0000042"
    assert content_of("<loa.bench-0000042.dd96acbc1c0dc4bb@loa.example.vn>") == "bench-0000042"
    assert content_of("CAF=xyz@mail.gmail.com") is None
    # As Mailpit's GET /api/v1/messages lists them (the shape of the stack's Mailpit v1.33.1).
    messages = [
        {"MessageID": f"loa.bench-0000001.{i:016x}@loa.example.vn", "Created": f"2026-12-04T13:00:0{i}.250Z"}
        for i in range(1, 4)
    ] + [
        {"MessageID": "loa.bench-0000002.0000000000000001@loa.example.vn", "Created": "2026-12-04T13:00:05Z"}
    ]
    received = arrivals(messages)
    assert received["bench-0000001"][-1] == T0 + timedelta(seconds=3.25)
    on_time = _delivery("bench-0000001", "email", T0 + timedelta(seconds=3.5))
    too_early = _delivery("bench-0000002", "email", T0 + timedelta(seconds=4))  # before its message came
    figures = match([on_time, too_early, _delivery("bench-0000003", "email", None)], received, 3)
    assert figures["matched"] == 2
    assert figures["inconsistent"] == 1
    assert figures["short"] == 1  # bench-0000002: one message of a list of 3
    assert figures["messages"] == 4


def test_all_channels_published_counts_each_content_by_its_own_targets() -> None:
    later = T0 + timedelta(seconds=1)
    deliveries = [_delivery("a", c, later) for c in BENCHED] + [_delivery("b", c, later) for c in CHANNELS]
    deliveries += [_delivery("c", c, later) for c in CHANNELS[:-1]] + [_delivery("c", CHANNELS[-1], None)]
    figures = phase_figures(
        deliveries, {"a": len(BENCHED), "b": len(CHANNELS), "c": len(CHANNELS)}, [*BENCHED]
    )
    assert figures["deliveries"] == len(BENCHED) + 2 * len(CHANNELS)
    assert figures["all_channels"]["n"] == 2  # a (7 channels) and b (5); c has one unpublished
    assert Counter(d.channel for d in deliveries)["tiktok"] == 1
    assert figures["per_channel"]["tiktok"]["n"] == 1


def test_a_phase_settles_only_when_every_lag_reported_is_zero() -> None:
    """The tracker reports a lag per topic it reads (contents, deliveries, audit, engagement)."""
    tracker = dict.fromkeys(("loa.content.v1", "loa.delivery.v1", "loa.audit.v1", "loa.engagement.v1"), 0)
    publishers = dict.fromkeys(BENCHED, 0)
    assert settled(tracker, publishers)
    assert not settled({**tracker, "loa.audit.v1": 3}, publishers)
    assert not settled({"loa.delivery.v1": 0}, publishers)  # the content topic not reported yet
    assert not settled(tracker, dict.fromkeys(CHANNELS, 0))  # e-mail's and TikTok's publishers silent


def test_a_labelled_run_keeps_its_own_section_and_leaves_make_bench_s_in_place() -> None:
    text = (REPO_ROOT / "docs" / "benchmarks.md").read_text("utf-8")
    assert markers("") == ("<!-- e2e-bench:begin -->", "<!-- e2e-bench:end -->")
    assert results_path("").name == "e2e.json" and results_path("channels").name == "e2e-channels.json"
    for label in ("", "channels"):
        begin, end = markers(label)
        assert text.count(begin) == 1 and text.count(end) == 1 and text.index(begin) < text.index(end)


def test_the_overload_is_the_last_phase_with_accounts_for_its_own_length() -> None:
    """``--overload 50 --overload-seconds 60``: a last phase ``over`` whose accounts carry 60 s at
    50 contents/s within each adapter's per-account limit (the overload measures Loa, not a limit)."""
    phases, rates = phase_plan([10.0, 30.0], 10.0, None, 50.0)
    assert (phases, rates) == (["r10", "slow", "r30", OVERLOAD], [10.0, 10.0, 30.0, 50.0])
    pools, _ = make_pools([10.0, 30.0], 30.0, 10.0, None, DEFAULT_CAPS, (50.0, 60.0))
    requests, period = channel_limits()["webhook"]  # type: ignore[misc]
    over = [a for a in pools["webhook"] if f"-{OVERLOAD}-" in a]
    assert len(over) * requests / period >= 50.0  # every content targets the webhook


def test_make_bench_runs_the_overload_last() -> None:
    """``make bench`` runs ``bench/e2e.py`` without arguments: its plan ends with the overload (issue
    #20's acceptance: goodput vs offered load including the overload phase), its rate chosen from
    the run's own peak; ``--overload 0`` skips it, a number fixes it."""
    args = parse_args([])
    phases, rates = phase_plan([10.0], None, None, args.overload)
    assert args.overload_auto and phases[-1] == OVERLOAD and rates[-1] == OVERLOAD_CEILING
    assert phase_plan([10.0], None, None, parse_args(["--overload", "0"]).overload)[0] == ["r10"]
    fixed = parse_args(["--overload", "80"])
    assert (fixed.overload, fixed.overload_auto) == (80.0, False)


@pytest.mark.parametrize("peak", [47.5, 71.4, 78.9])
def test_the_automatic_overload_offers_at_least_4x_the_peak_measured_before_it(peak: float) -> None:
    """The peaks of the runs on this machine (docs/benchmarks.md): the rate offers >= 4x the peak in
    deliveries (the paced channels counted as they are at that rate) and stays under the ceiling."""
    rate = auto_overload_rate(peak, lambda r: shares_at(r, DEFAULT_CAPS).per_content())
    offered = rate * shares_at(rate, DEFAULT_CAPS).per_content()
    assert 4 * peak <= offered <= 5 * peak and rate <= OVERLOAD_CEILING
    assert auto_overload_rate(10_000.0, lambda r: 5.0) == OVERLOAD_CEILING
    assert auto_overload_rate(0.0, lambda r: 5.0) == OVERLOAD_CEILING  # nothing measured before it


def test_the_peak_is_of_the_fast_phases_only() -> None:
    measured = (("r10", 49.0), ("slow", 90.0), ("r30", 71.4), (OVERLOAD, 80.0))
    phases = {name: {"deliveries_per_s": v} for name, v in measured}
    assert peak_before(phases) == 71.4
