"""A tiny HTTPS server that drops idle keep-alive connections the blunt way: TCP FIN, no TLS
close_notify (as load balancers and some servers do), which is what made YouTube's pooled
httplib2 transport fail with ``SSLEOFError`` on the first call after a pause (issue #25)."""

from __future__ import annotations

import socket
import ssl
import threading
from typing import BinaryIO

from services.sandbox.tls import TlsFiles

ANSWER = b'{"kind": "youtube#videoListResponse", "items": []}'


class IdleClosingServer:
    """Answers every request 200 with a small JSON body; closes a connection idle ``idle_s``."""

    def __init__(self, tls: TlsFiles, idle_s: float = 0.3) -> None:
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(str(tls.cert_pem), str(tls.key_pem))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}"
        self.idle_s = idle_s
        self.requests: list[str] = []
        """Request lines received, in order (a request sent twice shows twice)."""
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self._tls.wrap_socket(raw, server_side=True)
            conn.settimeout(self.idle_s)
            reader = conn.makefile("rb")
            while self._answer_one(conn, reader):
                pass
        except OSError:  # idle too long (timeout), or the client went away
            pass
        finally:
            raw.close()  # the TCP connection only: no close_notify

    def _answer_one(self, conn: ssl.SSLSocket, reader: BinaryIO) -> bool:
        line = reader.readline()
        if not line:
            return False
        length = 0
        while (header := reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        reader.read(length)
        self.requests.append(line.decode("latin-1").strip())
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(ANSWER)}\r\n\r\n"
        conn.sendall(head.encode() + ANSWER)
        return True

    def close(self) -> None:
        self._listener.close()
