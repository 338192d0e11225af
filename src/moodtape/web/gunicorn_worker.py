"""A gunicorn worker that serves with waitress's event loop (``moodtape serve --processes N``).

Why: gunicorn's own threaded worker (``gthread``) reads each request in its thread pool, so with
``--processes 2 --threads 2`` four clients trickling their headers or upload one byte a second held
every thread and nobody else was answered; with ``--certfile`` its TLS had the same weakness. This
worker runs :class:`~moodtape.web.buffered_server.BufferedServer` on the listening sockets that
gunicorn's master hands it, so multi-process mode reads whole requests on an event loop before a
thread runs the app, exactly like one-process mode: same limits, same JSON refusals, and HTTPS
through the TLS channel (handshake on the loop too). ``benchmarks/slow_clients.py`` measures it.

gunicorn's master still does the rest: it binds, forks N workers (the model loads in each after
the fork), replaces one that dies or stops calling :meth:`~gunicorn.workers.base.Worker.notify`
(its heartbeat, sent every turn of the loop here), and on SIGTERM or SIGINT closes its sockets and
tells every worker to stop gracefully. A worker then closes its listening sockets too (new
connections are refused), closes its idle keep-alive connections, lets the requests it is reading,
running or answering finish within ``graceful_timeout`` (``MOODTAPE_SHUTDOWN_SECONDS``), and exits.
On SIGQUIT (the master's quick stop: a second signal during the drain of ``web/draining.py``) it
ends the same way but without waiting for the requests in flight.
"""

from __future__ import annotations

import gc
import os
import ssl
from typing import Any

from flask import Flask
from gunicorn.workers.base import Worker

from moodtape.web.buffered_server import BufferedServer
from moodtape.web.stopping import exit_if_native_threads_run

#: The longest wait of one loop turn: the heartbeat and the parent check run at least this often.
TURN_SECONDS = 1.0
#: Kept from the graceful bound for the last answers to go out before the master's SIGKILL.
EXIT_MARGIN = 0.5


class BufferedWorker(Worker):  # type: ignore[misc]
    """gunicorn worker running :class:`BufferedServer` on ``self.sockets``; :attr:`tls` set by :func:`worker_class`."""

    tls: ssl.SSLContext | None = None
    wsgi: Flask  # set by gunicorn's load_wsgi: the app the master created
    _server: BufferedServer | None = None
    #: SIGQUIT came: stop without waiting for the requests in flight.
    _quick = False

    def run(self) -> None:
        """Serve until the master asks this worker to stop (or goes away), then stop gracefully."""
        server = BufferedServer(
            self.wsgi,
            threads=max(1, int(self.cfg.threads)),
            tls=self.tls,
            sockets=[listener.sock for listener in self.sockets],
        )
        server.prepare()
        self._server = server
        try:
            while self.alive:
                server.poll(TURN_SECONDS)
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
            if not self._quick:
                self._drain(server)
        finally:
            still_running = server.stop(grace=EXIT_MARGIN)
        # Then gunicorn exits the worker: not through the teardown while the model still loads (an
        # error above propagates instead, with its traceback, whatever that teardown does). As in
        # the one-process server (cli/serve.py), the final garbage collection's walk over the model's
        # and OpenCV's objects is skipped: it kept each worker seconds after "Worker exiting".
        gc.freeze()
        exit_if_native_threads_run(still_running)

    def _drain(self, server: BufferedServer) -> None:
        """Refuse new connections and wait, within the graceful bound, for the requests in flight."""
        server.drain(
            max(EXIT_MARGIN, float(self.cfg.graceful_timeout) - EXIT_MARGIN),
            on_turn=self.notify,
            until=lambda: self._quick,  # a SIGQUIT in the middle of the wait ends it
        )

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM (and SIGINT, see ``multiprocess``): stop after this turn of the loop, which ends now."""
        super().handle_exit(sig, frame)
        if self._server is not None:
            self._server.wake()

    def handle_quit(self, sig: int, frame: Any) -> None:
        """SIGQUIT: stop after this turn too, skipping the wait for requests in flight.

        gunicorn's own handler raises ``SystemExit`` from inside the event loop, wherever it is, and
        skipped the exit that a model still loading needs (``web/stopping.py``).
        """
        self._quick = True
        self.cfg.worker_int(self)
        self.handle_exit(sig, frame)


def worker_class(tls: ssl.SSLContext | None) -> type[BufferedWorker]:
    """The worker class for gunicorn's ``worker_class`` setting, serving HTTPS when ``tls`` is given."""
    return type("MoodtapeWorker", (BufferedWorker,), {"tls": tls})
