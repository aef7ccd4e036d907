"""A small client of the sandbox's control API, for tests (synchronous: the sandbox runs elsewhere)."""

from __future__ import annotations

from typing import Any

import httpx


class SandboxClient:
    """``SandboxClient("http://127.0.0.1:8090")``: read records, plan faults, move the clock, reset."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def records(
        self, platform: str | None = None, kind: str | None = None, after: int = 0
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after}
        if platform is not None:
            params["platform"] = platform
        if kind is not None:
            params["kind"] = kind
        result: list[dict[str, Any]] = self._call("GET", "/records", params=params)
        return result

    def fault(
        self,
        platform: str,
        preset: str | None = None,
        *,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
        latency_ms: int = 0,
        path: str | None = None,
        reset_after_s: int = 60,
        after: bool = False,
        method: str | None = None,
    ) -> dict[str, Any]:
        """Plan a fault: a ``preset`` (``expired_token``, ``rate_limit``, ``server_error``, ``slow``)
        in the platform's own shape, or an explicit status/body/headers; ``after``: the emulator does
        its work first, then its answer is held ``latency_ms`` (and replaced unless ``status`` is 0)."""
        planned: dict[str, Any] = self._call(
            "POST",
            "/faults",
            json={
                "platform": platform,
                "preset": preset,
                "status": status,
                "body": body,
                "headers": headers or {},
                "count": count,
                "latency_ms": latency_ms,
                "path": path,
                "reset_after_s": reset_after_s,
                "after": after,
                "method": method,
            },
        )
        return planned

    def latency(self, platform: str, ms: int) -> None:
        self._call("POST", "/latency", params={"platform": platform, "ms": ms})

    def processing(self, platform: str, checks: int) -> None:
        """Status checks answered "still processing" before an upload or article is ready."""
        self._call("POST", "/processing", params={"platform": platform, "checks": checks})

    def advance_clock(self, seconds: float) -> str:
        now: str = self._call("POST", "/clock/advance", params={"seconds": seconds})["now"]
        return now

    def stats(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self._call("GET", "/stats")
        return result

    def reset(self) -> None:
        self._call("POST", "/reset")

    def webhook_endpoint(self, endpoint: str, secret: str) -> None:
        """Create a webhook endpoint or rotate its secret."""
        self._call("PUT", f"/webhook/endpoints/{endpoint}", json={"secret": secret})

    def webhook_live(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Webhook deliveries not deleted: ``{"id", "endpoint", "idempotency_key", "payload"}``."""
        params = {} if endpoint is None else {"endpoint": endpoint}
        result: list[dict[str, Any]] = self._call("GET", "/webhook/live", params=params)
        return result

    def webhook_accepted(self) -> dict[str, int]:
        """Accepted webhook POSTs per idempotency key, duplicates included."""
        result: dict[str, int] = self._call("GET", "/webhook/accepted")
        return result

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
