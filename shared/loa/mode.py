"""The explicit mode, ``LOA_MODE=development|production``, and the one owner of what production refuses.

Production is the code's default (secure unless told otherwise): every channel's base URL defaults
to its real platform, and a publisher refuses to start with a platform URL that points at the
sandbox, this machine, a private network, or plain ``http://`` — the sandbox answers with
real-looking permalinks, so a misrouted publisher would report "published" for posts no citizen
sees, and would hand real tokens to an emulator. Development (``make run``, the tests,
docker-compose.yml) defaults every channel to the sandbox and says so wherever a person looks:
``/healthz``, ``/metrics`` (``loa_mode``), ``loa status`` and the dashboard's banner.
"""

from __future__ import annotations

from contextlib import suppress
from ipaddress import ip_address
from typing import Any, Literal
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Gauge
from pydantic import BaseModel, Field

Mode = Literal["development", "production"]
DEVELOPMENT: Mode = "development"
PRODUCTION: Mode = "production"
PLATFORM_URL = "loa_platform_url"
"""Marks a setting (``json_schema_extra``) as a platform's base URL: checked and shown by mode."""


def platform_url(*, real: str | None, sandbox: str, description: str) -> Any:
    """A setting holding a platform's base URL: ``real`` in production, ``sandbox`` in development.

    The default depends on ``mode``, which ``LoaSettings`` declares first, so pydantic has
    validated it by the time this factory runs. ``real=None``: the platform has no address of its
    own (the office's own WordPress), so production needs it configured.
    """

    def default(data: dict[str, Any]) -> str | None:
        return sandbox if data.get("mode") == DEVELOPMENT else real

    where = f"production: {real}" if real else "production: none, configure it"
    return Field(
        default_factory=default,
        description=f"{description} ({where}; development: the sandbox, {sandbox})",
        json_schema_extra={PLATFORM_URL: True},
    )


def _is_platform_url(extra: object) -> bool:
    return isinstance(extra, dict) and bool(extra.get(PLATFORM_URL))


def _platform_settings(settings: BaseModel) -> dict[str, str]:
    """``{field name: URL}`` of every platform URL setting that has a value."""
    marked = (n for n, f in type(settings).model_fields.items() if _is_platform_url(f.json_schema_extra))
    return {name: str(value) for name in marked if (value := getattr(settings, name)) is not None}


def target_host(url: str) -> str:
    """``host[:port]`` of ``url``: never its path or query, which may carry a token.

    An IPv6 address keeps its brackets and a Unicode name is spelt in IDNA (``xn--``), so the result
    is the ``host[:port]`` form ``loa.events.delivery.HOST_PATTERN`` accepts."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    else:
        with suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    try:
        port = parts.port
    except ValueError:  # not a port number: the host alone
        port = None
    return f"{host}:{port}" if port else host


def platform_host(settings: BaseModel) -> str | None:
    """``host[:port]`` of a service's first platform URL setting (a channel's API, declared first)."""
    first = next(iter(_platform_settings(settings).values()), None)
    return target_host(first) if first else None


def targets(settings: BaseModel) -> dict[str, str]:
    """``{LOA_<SETTING>: host[:port]}`` of each platform a service's settings send it to."""
    return {f"LOA_{name.upper()}": target_host(url) for name, url in _platform_settings(settings).items()}


def _is_private_host(host: str) -> bool:
    """This machine or a private network, by name or literal address (no DNS lookup at start)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def refusal(url: str, sandbox_url: str) -> str | None:
    """Why production refuses ``url`` as a platform's address, or ``None`` when it may be one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    # By host, not host:port: the sandbox serves https on a second port (8091) of the same host.
    if host and host == (urlsplit(sandbox_url).hostname or "").lower():
        return f"its host {host} is the sandbox's (LOA_SANDBOX_URL)"
    if _is_private_host(host):
        return f"its host {host} is this machine or a private network, not one the public reaches"
    if parts.scheme != "https":
        return "it is not https:// (tokens would cross the network in clear)"
    return None


def refuse_sandbox_targets(
    settings: BaseModel, mode: Mode, sandbox_url: str, website_base_url: str | None = None
) -> None:
    """In production, ``ValueError`` naming every platform URL setting that is not the platform.

    ``website_base_url``: given by a service that writes it into posts (canonical links, Zalo's
    photos), which citizens follow, so it is held to the same rule as a platform's address.
    """
    if mode != PRODUCTION:
        return
    checked = dict(_platform_settings(settings))
    if website_base_url is not None:
        checked["website_base_url"] = website_base_url
    refused = [
        f"LOA_{name.upper()}: {why}" for name, url in checked.items() if (why := refusal(url, sandbox_url))
    ]
    if refused:
        raise ValueError(
            "LOA_MODE=production refuses to start: "
            + "; ".join(refused)
            + ". Unset a platform's URL for its real address, set LOA_WEBSITE_BASE_URL to the website's"
            " public https:// address, or run LOA_MODE=development."
        )


def require_https_option(url: str, option: str, account: str, mode: Mode) -> str:
    """An account option's URL (a webhook receiver, a WordPress site); production needs https://.

    Checked when a post is rendered or sent, the one place every account passes whatever way it
    came in (``loa accounts``, the seed file, the store) and whatever the mode was when it was added.
    """
    # Imported here: loa.settings imports this module, and loa.channels imports loa.settings.
    from loa.channels.errors import PermanentError

    if mode == PRODUCTION and urlsplit(url).scheme != "https":
        raise PermanentError(
            f"account {account}: options.{option} must be https:// in production (LOA_MODE=production)"
        )
    return url


def mode_gauge(registry: CollectorRegistry, mode: Mode) -> None:
    """``loa_mode{mode="..."} 1`` on ``registry``: dashboards and alerts can tell a sandbox apart."""
    gauge = Gauge("loa_mode", "the mode this service runs in (LOA_MODE)", ["mode"], registry=registry)
    gauge.labels(mode=mode).set(1)
