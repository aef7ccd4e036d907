"""Settings every channel publisher shares; a channel's own class extends this one."""

from __future__ import annotations

from pydantic import Field, SecretStr

from loa.settings import LoaSettings


class PublisherSettings(LoaSettings):
    """A channel's settings subclass adds ``<channel>_*`` fields (env ``LOA_<CHANNEL>_*``)."""

    publisher_database_url: str | None = Field(
        default=None, description="the job store; default: a SQLite file per channel in .loa/data"
    )
    credentials_key: SecretStr = Field(
        default=SecretStr(""), description="Fernet key that encrypts account credentials at rest"
    )
    accounts_file: str | None = Field(default=None, description="YAML file to seed accounts from")
