"""A TCP relay in front of a server whose traffic a test can freeze: a database that stops answering.

Frozen, the relay keeps every socket open and the kernel keeps acknowledging, but nothing is passed
on: a server stuck on I/O, a stuck PgBouncer, a paused VM whose host still answers TCP. No timeout
of libpq or of the kernel fires then (``tcp_user_timeout`` needs unacknowledged data). New
connections are accepted and wait too, so a connect is bounded only by libpq's ``connect_timeout``:
with :meth:`TcpRelay.cut` first (existing connections reset), that is a database host that is gone.
Thawed, the held bytes go through and the clients carry on. :meth:`TcpRelay.silence` is a failover
that leaves the old connections half-open: they are kept open and their bytes dropped for good,
while new connections pass (to the server, which is "the new primary" here).
:meth:`TcpRelay.slow` adds latency instead: every answer of the server reaches its client that
many seconds late (a Redis on an overloaded host, a congested link), each connection on its own.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from types import TracebackType


class TcpRelay:
    """Relay ``127.0.0.1:<port>`` to ``127.0.0.1:<upstream_port>`` until :meth:`close`.

    Args:
        upstream_port: the server's port.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._silenced: list[threading.Event] = []
        self._latency = 0.0
        threading.Thread(target=self._accept, name="tcp-relay-accept", daemon=True).start()

    def __enter__(self) -> TcpRelay:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def freeze(self) -> None:
        """Stop passing bytes on, in either direction, and leave new connections unanswered."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Pass everything on again, what was held first."""
        self._flowing.set()

    def slow(self, seconds: float) -> None:
        """Hold each chunk the server sends ``seconds`` before passing it on (0: at once, as before)."""
        self._latency = seconds

    def silence(self) -> None:
        """Keep every relayed connection open but pass nothing on, for good; new connections pass."""
        with self._lock:
            silenced, self._silenced = self._silenced, []
        for flag in silenced:
            flag.set()

    def cut(self) -> None:
        """Reset every relayed connection (the clients see the break at once); new ones wait while frozen."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(client,), name="tcp-relay-conn", daemon=True).start()

    def _open(self, client: socket.socket) -> None:
        with self._lock:
            self._sockets.append(client)
        self._flowing.wait()
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        silenced = threading.Event()
        with self._lock:
            self._sockets.append(server)
            self._silenced.append(silenced)
        self._pump(client, server, silenced)

    def _pump(self, client: socket.socket, server: socket.socket, silenced: threading.Event) -> None:
        peers = {client: server, server: client}
        try:
            while not self._closed.is_set() and peers:
                readable, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    self._flowing.wait()  # frozen: the bytes are held here, acknowledged by the kernel
                    if silenced.is_set():
                        if not data:
                            del peers[sock]  # that side left; the other stays open, unanswered
                        continue  # taken by this end, never passed on, never closed
                    if not data:
                        return
                    if sock is server and self._latency > 0:
                        time.sleep(self._latency)  # this connection's answers only; the others flow
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()
