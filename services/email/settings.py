"""Settings of the e-mail publisher (env ``LOA_EMAIL_*``).

The SMTP login is per account (credentials ``smtp_username``/``smtp_password``): an account is one
press list and the SMTP account it is sent through; the runtime's rate limit is per account.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from loa.publisher.settings import PublisherSettings
from services.email.smtp import refuse_plain_smtp


class EmailSettings(PublisherSettings):
    email_smtp_host: str = Field(default="127.0.0.1", description="the SMTP relay (locally: Mailpit)")
    email_smtp_port: int = Field(default=1025, gt=0, lt=65536)
    email_smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="none",
        description="starttls (submission, 587) or tls (465); none only to this machine: production "
        "refuses plain SMTP to another host",
    )
    email_smtp_timeout_s: float = Field(default=15.0, gt=0, description="per SMTP command")
    email_messages_per_second: float = Field(
        default=14.0,
        gt=0,
        description="per SMTP account (its login, else the relay): Amazon SES's default sending rate "
        "(docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html); relays refuse bursts with 421/451",
    )
    email_from: str = Field(
        default="Văn phòng Bộ <thongcao@loa.example.vn>", description="From: the office's sending address"
    )
    email_unsubscribe_url: str = Field(
        default="https://loa.example.vn/press/unsubscribe",
        description="RFC 8058 one-click endpoint; ?list=&r=<recipient hash> are appended",
    )
    email_unsubscribe_mailto: str = Field(default="unsubscribe@loa.example.vn")
    email_dkim_selector: str = Field(default="loa", pattern=r"^[A-Za-z0-9._-]{1,63}$")
    email_dkim_domain: str | None = Field(
        default=None, description="the d= domain; default: the domain of email_from"
    )
    email_dkim_private_key: SecretStr | None = Field(
        default=None, description="PEM RSA key that signs every message (DKIM); none: unsigned"
    )
    email_inline_image_budget_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=0,
        description="images up to this total go inline (cid:); beyond it they are links, never bytes",
    )

    @model_validator(mode="after")
    def _no_plain_smtp_off_this_machine(self) -> EmailSettings:
        if reason := refuse_plain_smtp(self.email_smtp_host, self.email_smtp_security, self.mode):
            raise ValueError(reason)
        return self
