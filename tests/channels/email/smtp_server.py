"""A small SMTP server (RFC 5321) the tests control: answers a chosen code per recipient.

Mailpit accepts every recipient (its chaos mode fails all at random, not one chosen address), so the
bounce and defer tests use this one; stdlib asyncio, since aiosmtpd is not among the dependencies.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str
    recipient: str
    data: bytes


@dataclass
class SmtpServer:
    port: int = 0
    refuse: dict[str, str] = field(default_factory=dict)
    """``{address: "550 5.1.1 ..."}``: the RCPT answer for that address."""
    password: str | None = None
    """Require AUTH PLAIN with this password (535 otherwise)."""
    received: list[Received] = field(default_factory=list)
    greeting: str = "220 bao.example.vn ESMTP test"
    """``421 ...``: the server is unavailable (RFC 5321 §3.1)."""
    mail_answer: str = "250 ok"
    """The MAIL FROM answer when authenticated (``554 ...``: every message refused)."""
    stall_s: float = 0.0
    """Wait this long before the greeting (a server that hangs)."""
    late_queued: dict[str, float] = field(default_factory=dict)
    """``{address: seconds}``: queue the message for that address, then wait this long before the
    ``250`` to its final dot (a relay slow to answer after taking the message)."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._converse(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()  # the client went away (a timeout on its side)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await asyncio.sleep(self.stall_s)
        await reply(self.greeting)
        if not self.greeting.startswith("220"):
            writer.close()
            return
        sender, authed = "", self.password is None
        recipients: list[str] = []
        while line := (await reader.readline()).decode().rstrip("\r\n"):
            verb = line[:4].upper()
            if verb == "EHLO":
                await reply("250-bao.example.vn\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                given = base64.b64decode(line.split()[-1]).split(b"\0")[-1].decode()
                authed = given == self.password
                await reply("235 2.7.0 ok" if authed else "535 5.7.8 authentication credentials invalid")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip(" <>").split(">")[0], []
                await reply(self.mail_answer if authed else "530 5.7.0 authentication required")
            elif verb == "RCPT":
                address = line.split(":", 1)[1].strip().strip("<>")
                answer = self.refuse.get(address)
                if answer is None:
                    recipients.append(address)
                await reply(answer or "250 ok")
            elif verb == "DATA":
                await reply("354 go ahead")
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.received += [Received(sender, r, data) for r in recipients]
                await asyncio.sleep(max((self.late_queued.get(r, 0.0) for r in recipients), default=0.0))
                await reply("250 ok: queued")
            elif verb == "RSET":
                recipients = []
                await reply("250 ok")
            elif verb == "QUIT":
                await reply("221 bye")
                break
            else:
                await reply("502 5.5.1 not implemented")
        writer.close()


@asynccontextmanager
async def smtp_server(**options: object) -> AsyncIterator[SmtpServer]:
    server = SmtpServer(**options)  # type: ignore[arg-type]
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        await listener.wait_closed()
