"""Failed dashboard sign-ins counted per client address; past the limit, sign-in waits.

The count lives in memory, per replica: with R replicas a client gets R × the limit. That is
acceptable because the throttle is not what keeps tokens safe (they are at least 32 random
characters, beyond any online guessing); it stops a client hammering the form and keeps the
refusals out of the way of everyone else. A restart forgets the counts for the same reason.
(OWASP Authentication Cheat Sheet, "Protect Against Automated Attacks".)
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_S = 300.0
MAX_CLIENTS = 10_000
"""Clients remembered at most (the least recently seen are forgotten): memory stays bounded."""


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._window_s = window_s
        self._max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or None if it may try now."""
        failures = self._failures.get(client)
        if failures is None or len(self._expire(failures)) < self._max_failures:
            return None
        return max(1, math.ceil(failures[0] + self._window_s - self._clock()))

    def failed(self, client: str) -> None:
        self._expire(self._failures.setdefault(client, deque())).append(self._clock())
        self._failures.move_to_end(client)
        while len(self._failures) > self._max_clients:
            self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        """A correct token clears this client's count, and only this client's."""
        self._failures.pop(client, None)

    def _expire(self, failures: deque[float]) -> deque[float]:
        horizon = self._clock() - self._window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
