"""Who is acting, and what they may do: people signed in through OpenID Connect and service
accounts with bearer tokens, holding roles on units of the office's unit tree."""

from loa.access.principal import Grant, Kind, Principal, Role

__all__ = ["Grant", "Kind", "Principal", "Role"]
