"""Which contents of a phase target which channel, and how many accounts each channel needs.

Every content targets the five channels of ``CHANNELS``. E-mail and TikTok (``PACED``) take one
content in ``every[channel]``, so that their rate stays within what their platforms allow, never by
raising an emulator's cap:

- TikTok: ``video/init`` 6 a minute per user token (the adapter's declared limit, from
  developers.tiktok.com/doc/content-posting-api-reference-direct-post) and 15 posts a day per
  creator (the emulator's ``state.daily_posts``; TikTok's documents give no fixed figure). The
  bench gives TikTok ``--tiktok-rate`` contents/s at most and enough creators per phase for both.
- E-mail: a press list of ``--press-list`` journalists is that many messages, paced at
  ``LOA_EMAIL_MESSAGES_PER_SECOND`` (14, Amazon SES's default sending rate) per SMTP account; the
  bench gives e-mail ``--email-rate`` contents/s at most and refuses a rate whose messages would
  take more than ``HEADROOM`` of that pace. The lists themselves: the adapter's 10 a minute each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.e2e.stack import CHANNELS, HEADROOM, PACED, accounts_needed, channel_limits
from services.email.settings import EmailSettings
from services.sandbox.tiktok import DAILY_POSTS

DAY = 86_400.0
DAILY_LIMITS: dict[str, tuple[int, float]] = {"tiktok": (DAILY_POSTS, DAY)}
"""Per-account caps over a day, beside the adapters' declared per-period limits."""
EMAIL_MESSAGES_PER_SECOND = EmailSettings.model_fields["email_messages_per_second"].default
DEFAULT_CAPS = {"email": 0.5, "tiktok": 0.2}
"""Contents/s each paced channel takes at most (``--email-rate``, ``--tiktok-rate``)."""


@dataclass(frozen=True)
class Shares:
    """``every[channel]``: content ``n`` of a phase targets the channel when ``n % every == 0``."""

    every: dict[str, int]

    def targets(self, n: int) -> list[str]:
        return [c for c, k in self.every.items() if n % k == 0]

    def count(self, channel: str, contents: int) -> int:
        """How many of the first ``contents`` contents target ``channel``."""
        return math.ceil(contents / self.every[channel])

    def deliveries(self, contents: int) -> int:
        """Deliveries of the first ``contents`` contents (one per target)."""
        return sum(self.count(c, contents) for c in self.every)

    def per_content(self) -> float:
        """Deliveries per content, on average."""
        return sum(1 / k for k in self.every.values())


def shares_at(rate: float, caps: dict[str, float]) -> Shares:
    """Every content to ``CHANNELS``; to each paced channel one in as many as keep it at its cap."""
    every = dict.fromkeys(CHANNELS, 1)
    every |= {c: max(1, math.ceil(rate / cap - 1e-9)) for c, cap in caps.items()}
    return Shares(every)


def check_caps(caps: dict[str, float], press_list: int) -> str | None:
    """Why these caps would break a platform's pace (else None)."""
    if unknown := set(caps) - set(PACED):
        return f"paced channels are {', '.join(PACED)}, not {', '.join(sorted(unknown))}"
    if any(cap <= 0 for cap in caps.values()):
        return "a paced channel's rate must be more than 0"
    messages = caps.get("email", 0.0) * press_list
    if messages > HEADROOM * EMAIL_MESSAGES_PER_SECOND:
        return (
            f"--email-rate × --press-list = {messages:g} messages/s, more than {HEADROOM:g} of the "
            f"{EMAIL_MESSAGES_PER_SECOND:g} a second the e-mail channel sends per SMTP account"
        )
    return None


def accounts_for(channel: str, contents: int, seconds: float) -> int:
    """Accounts of ``channel`` so that ``contents`` posts in ``seconds`` stay within each of its limits."""
    limits = [channel_limits()[channel], DAILY_LIMITS.get(channel)]
    return max((accounts_needed(limit, contents, seconds) for limit in limits if limit), default=1)
