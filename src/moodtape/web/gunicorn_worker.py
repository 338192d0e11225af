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

A replacement worker (gunicorn forks one when a worker dies: OOM, ``kill -9``, a timeout) takes no
connection while its model loads if a sibling is ready (:class:`~moodtape.web.worker_board.WorkerBoard`):
the sibling answers everything meanwhile. Before, the replacement accepted at once and answered
``/readyz`` 503 ``loading`` for the seconds its model took (2 to 4 s), although the instance could
serve: a balancer with ``fall 2`` whose two checks in a row landed there took the whole instance
out, and an analysis landing there waited for the model. At the first start no worker is ready, so
every worker accepts at once as before: ``/healthz`` answers, ``/readyz`` says 503 until that
worker's model is loaded. A model that takes longer than :data:`WAIT_LIMIT_SECONDS` (a load that
hangs) ends the wait: the worker then serves as at the first start, and says so in the log.

The wait relies on the one listening socket that all workers share (gunicorn's ``reuse_port`` is
off, its default, and ``web/multiprocess.py`` leaves it so): a connection waits in that socket's
queue for whichever worker accepts it, so one that does not accept takes nothing from the others.
Under ``reuse_port`` each worker would have its own queue, which the kernel fills by a hash of the
client's address, and the connections hashed to a waiting worker would wait for its model.
"""

from __future__ import annotations

import gc
import os
import ssl
import time
from typing import Any

from flask import Flask
from gunicorn.workers.base import Worker

from moodtape.web.buffered_server import BufferedServer
from moodtape.web.stopping import exit_if_native_threads_run, warming
from moodtape.web.worker_board import WorkerBoard

#: The longest wait of one loop turn: the heartbeat and the parent check run at least this often.
TURN_SECONDS = 1.0
#: Kept from the graceful bound for the last answers to go out before the master's SIGKILL.
EXIT_MARGIN = 0.5
#: How often a replacement waiting for its model looks again (and beats, so the master keeps it).
WAIT_TURN_SECONDS = 0.1
#: Seconds a worker's loop may stay silent (stuck) before the master replaces it: gunicorn's
#: ``timeout``, set in web/multiprocess.py.
SILENT_WORKER_SECONDS = 60
#: The longest a replacement waits for its model before it accepts without it: a load that hangs
#: without failing must not keep a worker out for good, unseen (the same bound as a silent
#: worker's; a model loads in 2 to 4 s).
WAIT_LIMIT_SECONDS = float(SILENT_WORKER_SECONDS)


class BufferedWorker(Worker):  # type: ignore[misc]
    """gunicorn worker running :class:`BufferedServer` on ``self.sockets``; :attr:`tls` set by :func:`worker_class`."""

    tls: ssl.SSLContext | None = None
    #: The instance's board of ready workers, set by :func:`worker_class`; None: wait for nothing.
    board: WorkerBoard | None = None
    #: This worker's slot on :attr:`board`, given by the master before the fork.
    slot: int | None = None
    #: The longest wait for the model (:data:`WAIT_LIMIT_SECONDS`; tests make it short).
    wait_limit: float = WAIT_LIMIT_SECONDS
    wsgi: Flask  # set by gunicorn's load_wsgi: the app the master created
    _server: BufferedServer | None = None
    #: SIGQUIT came: stop without waiting for the requests in flight.
    _quick = False
    #: This worker has marked itself ready on :attr:`board`.
    _said_ready = False

    def run(self) -> None:
        """Serve until the master asks this worker to stop (or goes away), then stop gracefully."""
        if not self._wait_for_the_model():
            self._stopped_serving()  # it may have marked itself ready as the wait ended
            gc.freeze()  # stopped before serving: nothing to drain (see the end of this method)
            exit_if_native_threads_run()
            return
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
                self._say_if_ready()
                server.poll(TURN_SECONDS)
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
            self._stopped_serving()  # a replacement waiting on this worker must not wait any longer
            if not self._quick:
                self._drain(server)
        finally:
            self._stopped_serving()
            still_running = server.stop(grace=EXIT_MARGIN)
        # Then gunicorn exits the worker: not through the teardown while the model still loads (an
        # error above propagates instead, with its traceback, whatever that teardown does). As in
        # the one-process server (cli/serve.py), the final garbage collection's walk over the model's
        # and OpenCV's objects is skipped: it kept each worker seconds after "Worker exiting".
        gc.freeze()
        exit_if_native_threads_run(still_running)

    def _wait_for_the_model(self) -> bool:
        """While a sibling is ready, take no connection until this worker's model is loaded.

        The sibling answers every request meanwhile (a connection waits in the shared listening
        socket's queue for whichever worker accepts it), so ``/readyz`` never says 503 ``loading``
        for an instance that can serve, and no analysis waits for a model. It beats meanwhile, so
        the master does not replace it as silent. It stops waiting for the reasons of
        :meth:`_why_stop_waiting`, or after :attr:`wait_limit` seconds (a load that hangs), and logs
        when it starts and when it stops waiting. Then it marks itself ready at once if its model
        is loaded. False: the master asked it to stop (or went away) first.
        """
        services = self.wsgi.extensions.get("moodtape")
        if self.board is None or services is None:
            return True
        if self._why_stop_waiting(services) is not None:  # the first start, or a sibling-less restart
            self._say_if_ready()
            return True
        pid = os.getpid()
        self.log.info("Worker %s takes no connection until its model is loaded: a sibling serves", pid)
        started = time.monotonic()
        while (why := self._why_stop_waiting(services)) is None:
            if time.monotonic() - started >= self.wait_limit:
                self.log.warning(
                    "Worker %s waited %g s for its model, which still loads: it serves without it "
                    "(/readyz 503 from it until loaded)",
                    pid,
                    self.wait_limit,
                )
                break
            time.sleep(WAIT_TURN_SECONDS)
            self.notify()
            if self.ppid != os.getppid():
                self.log.info("Parent changed while waiting for the model, shutting down: %s", self)
                return False
        else:
            self.log.info("Worker %s stopped waiting after %.1f s: %s", pid, time.monotonic() - started, why)
        self._say_if_ready()
        return bool(self.alive)

    def _why_stop_waiting(self, services: Any) -> str | None:
        """Why this worker may take connections now; None: it waits for its model."""
        if not self.alive:
            return "asked to stop"
        if services.model_ready:
            return "its model is loaded"
        if not warming():  # a broken model: this worker serves its errors like the others
            return "the loading ended without a model"
        if self.board is None or not self.board.another_ready(self.slot):
            # every worker died at once: serve now, /readyz 503 while it loads, as at the first start
            return "no sibling is ready any more"
        return None

    def _say_if_ready(self) -> None:
        """Mark this worker ready on the board once its model is loaded (once: then there is no change).

        Called when the wait for the model ends and at the top of each turn of the serving loop,
        so a worker whose model loads while it serves (the first start) is marked up to
        :data:`TURN_SECONDS` after the load. A replacement forked in that second sees no ready
        sibling and serves at once, ``/readyz`` 503 while it loads, as at the first start.
        """
        services = self.wsgi.extensions.get("moodtape")
        if self.board is not None and not self._said_ready and services is not None and services.model_ready:
            self.board.mark(self.slot, ready=True)
            self._said_ready = True

    def _stopped_serving(self) -> None:
        if self.board is not None:
            self.board.mark(self.slot, ready=False)

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


def worker_class(tls: ssl.SSLContext | None, board: WorkerBoard | None = None) -> type[BufferedWorker]:
    """The worker class for gunicorn's ``worker_class`` setting, serving HTTPS when ``tls`` is given.

    With ``board``, a replacement waits for its model while a sibling is ready (``web/worker_board.py``).
    """
    return type("MoodtapeWorker", (BufferedWorker,), {"tls": tls, "board": board})
