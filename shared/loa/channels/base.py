"""The channel adapter contract: one small class per channel on the shared runtime."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from loa.channels.scheduling import NativeWindow, native_due
from loa.events import Content, MediaRef, Target
from loa.events.delivery import RecipientsReport
from loa.links import web_link
from loa.media import MediaStore
from loa.mode import platform_host
from loa.text import count_code_points

if TYPE_CHECKING:
    from loa.channels.corrections import CorrectionLink

log = logging.getLogger(__name__)

Counter = Callable[[str], int]


@dataclass(frozen=True)
class Limits:
    """What a channel accepts, declared once and enforced by the runtime before any I/O."""

    text_max: int | None = None
    title_max: int | None = None
    count: Counter = count_code_points
    """How the platform counts text (code points, UTF-8 bytes, X's weighted count...)."""
    media_types: frozenset[str] = frozenset()
    image_max_bytes: int | None = None
    video_max_bytes: int | None = None
    max_images: int = 0
    max_videos: int = 0
    requests_per_period: tuple[int, float] | None = None
    """At most N requests per this many seconds per account (a token bucket)."""


class Secret(str):
    """A credential value: behaves as a str, never shows itself in repr or str()."""

    __slots__ = ()

    def __new__(cls, value: str) -> Secret:
        # str(Secret) is masked, so wrapping a Secret again must take its real value.
        return super().__new__(cls, value.reveal() if isinstance(value, Secret) else value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    def reveal(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return "**********"


@dataclass(frozen=True)
class Account:
    """One account of a channel (a Page, an OA, a YouTube channel) with its credentials."""

    channel: str
    name: str
    credentials: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)

    def secret(self, key: str) -> str:
        """The plain value of one credential (for the SDK call only; never log it)."""
        try:
            return self.credentials[key].reveal()
        except KeyError:
            raise KeyError(f"account {self.channel}/{self.name} has no credential {key!r}") from None

    def __repr__(self) -> str:
        hidden = len(self.credentials)
        return f"Account(channel={self.channel!r}, name={self.name!r}, credentials=<{hidden} hidden>)"


@dataclass
class Post:
    """What an adapter renders from a content for one target; persisted in the job as JSON."""

    content_id: str
    version: int
    channel: str
    account: str
    marker: str
    """A stable token that identifies this post on the platform (for ``find_existing``)."""
    title: str | None = None
    texts: list[str] = field(default_factory=list)
    """Every text the platform will count (one, or the parts of a thread)."""
    media: list[MediaRef] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    """Anything else the adapter needs to publish, JSON-serialisable."""
    due_at: datetime | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    """Resumable progress (e.g. an upload session), saved by the runtime through ``Context``."""

    def document(self) -> dict[str, Any]:
        """The post as JSON-ready fields: the job store keeps it (``codec.post_to_json``), the
        archive keeps what was sent (``loa.archive.payload``: all but ``progress``)."""
        return {
            "content_id": self.content_id,
            "version": self.version,
            "channel": self.channel,
            "account": self.account,
            "marker": self.marker,
            "title": self.title,
            "texts": self.texts,
            "media": [m.model_dump(mode="json") for m in self.media],
            "payload": self.payload,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "progress": self.progress,
        }


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Whatever ``update``/``retract`` need later (e.g. every id of a thread)."""
    scheduled_natively: bool = False
    """The platform holds the post and publishes it at ``due_at`` itself."""
    note: str | None = None
    """One line for ops about this answer, shown with the delivery (e-mail: how many recipients got
    it, which bounced); not kept with the result."""
    recipients: RecipientsReport | None = None
    """A channel that sends to a list (e-mail): each recipient's outcome, keyed by recipient id; kept
    with the result and carried by the delivery's status events (the tracker shows it)."""

    def __post_init__(self) -> None:
        # The link comes from the platform's answer: keep it only if it is one a person may be
        # shown. The post is published either way, so a bad link is dropped, never an error
        # (an error would retry, and publish twice).
        if self.url is not None and web_link(self.url) is None:
            log.warning("the platform answered with a link that is not http(s); not shown: %.80r", self.url)
            object.__setattr__(self, "url", None)


class Context(Protocol):
    """What the runtime gives an adapter: media, links, durable progress and credentials."""

    @property
    def media(self) -> MediaStore:
        """The media store (MinIO): stream, stat, presign; see ``loa.media``."""
        ...

    def canonical_url(self, content: Content) -> str:
        """The website URL of a content, known before the website publishes it."""
        ...

    async def save_progress(self, post: Post) -> None:
        """Persist ``post.progress`` durably now (e.g. after each uploaded chunk)."""
        ...

    async def save_credentials(self, account: Account, credentials: Mapping[str, str]) -> Account:
        """Persist rotated credentials (refresh tokens) durably before they are used."""
        ...

    def credentials_lock(self, account: Account) -> AbstractAsyncContextManager[None]:
        """Held while rotating credentials: one refresh at a time per account, across replicas."""
        ...

    async def reload_account(self, account: Account) -> Account:
        """The account as stored now (another replica may have rotated its credentials)."""
        ...

    async def mark_credentials(self, account: Account, values: Mapping[str, str]) -> Account:
        """Persist a note beside the credentials (e.g. "refresh in flight") without a new account
        version: parked jobs stay parked and nothing reloads the account for it."""
        ...

    async def retract_requested(self, post: Post) -> bool:
        """Whether the content was retracted since this post began: make nothing public then."""
        ...


class ChannelAdapter(ABC):
    """Subclass, set ``name`` and ``limits``, implement the five methods."""

    name: ClassVar[str]
    limits: ClassVar[Limits] = Limits()
    supports_update: ClassVar[bool] = True
    metrics_port: ClassVar[int] = 0
    """Where its publisher serves ``/livez``, ``/readyz`` and ``/metrics`` (``LOA_PUBLISHER_PORT``
    overrides); 0: any free port. The tracker's dashboard looks for each channel's publisher there."""

    def __init__(self, context: Context, settings: Any = None) -> None:
        self.context = context
        self.settings = settings

    def native_window(self, account: Account) -> NativeWindow | None:
        """How far ahead this account's platform can hold a post and publish it itself; None (the
        default): it cannot, and the runtime holds every post until its time."""
        return None

    def native_time(self, post: Post, account: Account) -> datetime | None:
        """The time to hand to the platform's scheduler, or None to publish now (see ``native_due``:
        a post not due yet and outside the window raises ``TransientError``, never goes early)."""
        return native_due(post.due_at, datetime.now(UTC), self.native_window(account))

    def target_host(self, account: Account) -> str | None:
        """``host[:port]`` this adapter's calls for ``account`` go to, recorded on each delivery: by
        default the host of its first platform URL setting (its API; the sandbox in development).
        An adapter whose address is an account option (webhook, WordPress) says so."""
        return platform_host(self.settings) if self.settings is not None else None

    @abstractmethod
    async def render(self, content: Content, target: Target, account: Account) -> Post:
        """Build the channel's post; raise ``PermanentError`` if it can never go."""

    @abstractmethod
    async def publish(self, post: Post, account: Account) -> PublishResult:
        """Put the post on the platform."""

    @abstractmethod
    async def find_existing(self, post: Post, account: Account) -> PublishResult | None:
        """Ask the platform whether this post is already there (by its marker)."""

    async def update(self, post: Post, previous: PublishResult, account: Account) -> PublishResult:
        """Edit a published post; the default declares the channel cannot."""
        from loa.channels.errors import UnsupportedError

        raise UnsupportedError(f"{self.name} cannot edit a published post")

    @abstractmethod
    async def retract(self, previous: PublishResult, account: Account) -> None:
        """Delete or hide a published post."""

    def links_correction(self, content: Content, target: Target, account: Account | None) -> bool:
        """Whether a correction on ``target`` gets a link step (``loa.channels.corrections``);
        the default: no, the channel publishes the correction and links nothing. ``account``: the
        target's account as configured (None when it is not), for a channel whose accounts differ
        (the website: only its WordPress accounts link)."""
        return False

    async def link_correction(self, link: CorrectionLink, account: Account) -> PublishResult:
        """Link the correction to its original on the platform (the link step's one call)."""
        from loa.channels.errors import UnsupportedError

        raise UnsupportedError(f"{self.name} cannot link a correction to its original")

    async def find_correction_link(self, link: CorrectionLink, account: Account) -> PublishResult | None:
        """After an interruption: the link already made on the platform (by its marker), or None."""
        return None

    async def confirm(self, previous: PublishResult, account: Account) -> PublishResult | None:
        """For a natively scheduled post past its time: the live post, or None if not live yet."""
        return previous

    async def pull_back(self, post: Post, previous: PublishResult, account: Account) -> bool:
        """A hold: take a natively scheduled post off the platform's schedule, so that its time
        passing publishes nothing. False: too late, the platform has published it already.

        Doing it twice must be harmless (a crash between the call and the store's commit repeats
        it). Whatever ``publish`` needs to put the post back goes into ``post.progress`` (saved
        through the context): after the release the runtime calls ``publish``, which hands it to
        the platform's scheduler again at its time, or publishes it now if that time passed; and
        ``find_existing`` must not take a pulled-back post for a published one. The default
        declares the channel cannot (``UnsupportedError``): the platform then publishes it at its time.
        """
        from loa.channels.errors import UnsupportedError

        raise UnsupportedError(f"{self.name} cannot pull a scheduled post back")

    @classmethod
    def refuse_target(cls, content: Content, target: Target, link: str) -> str | None:
        """Why ``target`` can never be published, when that is known without I/O (``field: reason``).

        The ingest asks before accepting a content (``link`` is its canonical URL); the runtime
        still renders and checks the declared ``limits`` at intake, for events sent to Kafka directly.
        """
        return None

    async def check_account(self, account: Account) -> str | None:
        """Called about daily per account (``LOA_PUBLISHER_ACCOUNT_CHECK_SECONDS``): renew what can
        be renewed; a reason returned parks the account (``needs_attention``) with that reason."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most adapters hold no pool
        """Release clients (HTTP pools)."""
