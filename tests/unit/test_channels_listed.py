"""Every channel is named alike in the three places outside its folder: its ``loa.channels`` entry
point (the registry), the Procfile ``make run`` starts and docker-compose.yml. A channel there is a
service running ``python -m services.<name>`` whose folder has an ``adapter.py``; where its health
check is the publisher runtime's ``/healthz``, the port is the one its adapter declares."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urlsplit

import pytest
import yaml

from deploy.local.supervise import parse_procfile
from loa.channels import ChannelAdapter, registry
from loa.settings import REPO_ROOT
from services.tracker.installed_publishers import installed_publishers

pytestmark = pytest.mark.unit

MODULE = re.compile(r"python -m services\.(?P<name>\w+)")
URL = re.compile(r"https?://[^'\"\s]+")


def _channel(command: str) -> str | None:
    """The channel a service's command runs, if it runs one."""
    match = MODULE.search(command)
    if match and (REPO_ROOT / "services" / match["name"] / "adapter.py").is_file():
        return match["name"]
    return None


def _procfile() -> dict[str, str | None]:
    """Channel → its readiness URL, from deploy/local/services.Procfile."""
    services = parse_procfile((REPO_ROOT / "deploy" / "local" / "services.Procfile").read_text("utf-8"))
    return {name: s.ready for s in services if (name := _channel(s.command)) is not None}


def _compose() -> dict[str, str | None]:
    """Channel → the URL of its health check, from docker-compose.yml."""
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text("utf-8"))["services"]
    found: dict[str, str | None] = {}
    for service in services.values():
        command = " ".join(service.get("command") or [])
        if (name := _channel(command)) is not None:
            url = URL.search(" ".join(service.get("healthcheck", {}).get("test", [])))
            found[name] = url.group(0) if url else None
    return found


def _registered() -> dict[str, type[ChannelAdapter]]:
    return registry.load_entry_points()


def test_entry_points_procfile_and_compose_name_the_same_channels() -> None:
    registered = set(_registered())
    assert registered, "no loa.channels entry point is installed: run `make setup`"
    assert set(_procfile()) == registered, "deploy/local/services.Procfile"
    assert set(_compose()) == registered, "docker-compose.yml"


def test_each_entry_point_is_the_adapter_of_the_channel_of_its_name() -> None:
    for name, adapter in _registered().items():
        assert adapter.name == name
        assert adapter.__module__ == f"services.{name}.adapter"


@pytest.mark.parametrize("listing", [_procfile, _compose], ids=["procfile", "compose"])
def test_a_publisher_is_checked_at_the_port_its_adapter_declares(listing) -> None:
    adapters = _registered()
    for name, url in listing().items():
        if url is not None and urlsplit(url).path == "/healthz":  # the publisher runtime's
            assert urlsplit(url).port == adapters[name].metrics_port, f"{name}: {url}"


def test_the_dashboard_finds_each_installed_publisher_at_its_adapters_port() -> None:
    # read by a child process (the tracker keeps no adapter, nor its platform's SDK, resident)
    urls = asyncio.run(installed_publishers())
    adapters = _registered()
    assert set(urls) == {name for name, adapter in adapters.items() if adapter.metrics_port}
    for name, url in urls.items():
        assert url == f"http://127.0.0.1:{adapters[name].metrics_port}/readyz"


def test_compose_shows_the_tracker_each_publisher_at_its_service_and_adapters_port() -> None:
    # in compose each publisher is its own container: the tracker's default (this host) finds none
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text("utf-8"))["services"]
    health = json.loads(services["tracker"]["environment"]["LOA_TRACKER_PUBLISHER_HEALTH"])
    adapters = _registered()
    expected = {}
    for service_name, service in services.items():
        if (name := _channel(" ".join(service.get("command") or []))) is not None:
            expected[name] = f"http://{service_name}:{adapters[name].metrics_port}/readyz"
    assert health == expected
