"""What the ingest knows: each content's latest version and canonical URL, and idempotent answers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from loa import db
from loa.db import UtcDateTime
from loa.events import utcnow


class Base(DeclarativeBase):
    pass


class ContentRecord(Base):
    """One row per content id the ingest has produced events for."""

    __tablename__ = "ingest_contents"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    canonical_url: Mapped[str] = mapped_column(String(2000))
    submitted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The account that submitted the first version (none for contents from before #16)."""
    unit: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The unit of the latest version: who may update or retract it is asked of this unit."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True), default=utcnow)


class AwaitingApproval(Base):
    """A version an editor submitted for a unit under the two-person rule: kept here, not on Kafka,
    until a spokesperson of the unit approves it (then its event goes to the outbox) or rejects it."""

    __tablename__ = "ingest_awaiting_approval"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    content: Mapped[str] = mapped_column(Text)
    """The content as submitted (JSON), ``approved_by`` still the submitter's until approval."""
    correlation_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True), default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """``approved`` or ``rejected``; none while it waits."""
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RetractionRecord(Base):
    """A content taken down, whichever door the retraction came through (the ingest's API, the
    tracker's dashboard: both reach ``loa.content.v1``); the first retraction stands."""

    __tablename__ = "ingest_retractions"

    content_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    retracted_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True))
    retracted_by: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """The ``content.retracted`` event (none for a retraction recorded before this table)."""


class IdempotentAnswer(Base):
    """The first successful answer to a request carrying an ``Idempotency-Key`` (per client)."""

    __tablename__ = "ingest_idempotency"

    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True), default=utcnow)


class OutboxRow(Base):
    """An event accepted with its request, waiting for (or done with) the relay to Kafka."""

    __tablename__ = "ingest_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(timezone=True), nullable=True, index=True)
    refused: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why Kafka refused the row for good (too large for the broker); such a row is done, not sent."""


MIGRATIONS = db.Migrations(
    folder=Path(__file__).resolve().parent / "migrations",
    metadata=Base.metadata,
    version_table="ingest_alembic_version",  # its own: the ingest may share the tracker's database
    baseline="0001",  # the tables of the releases that made them with create_all
)


class IngestDb:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = db.make_engine(url)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    async def migrate(self) -> None:
        """Create the store, or bring it to the latest revision (idempotent)."""
        await db.migrate(self.engine, MIGRATIONS)

    async def close(self) -> None:
        await self.engine.dispose()
