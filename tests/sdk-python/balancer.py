"""A TCP load balancer for the multi-node SDK run (issue 11): what an operator puts in front of several `strongroom
serve` nodes of one deployment, reduced to what the suite needs.

- It listens on 127.0.0.1 from construction on (the port is known before any node starts: every node is given it as
  `--public-port`, since it is part of the vault audience, the challenge and the authority), and accepts once
  `start(backends)` names the nodes' listen addresses; connections made in between wait in the backlog.
- Each accepted connection goes to the next backend in turn (round robin per connection), and bytes are relayed both
  ways untouched: TLS ends at the node, as with a layer-4 balancer, so the certificate check still sees the node's.
  A client that opens one connection per request therefore alternates between nodes per request.
- It counts the connections each backend was given, so a session can prove that every node served its share
  instead of silently running on one.
- `stop()` closes the listener and every relayed connection, and joins its thread: nothing outlives the session.

It runs an asyncio loop in a thread of its own, so the tests (synchronous SDK clients) stay as they are.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Sequence

RELAY_CHUNK = 64 * 1024
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class Balancer:
    """Round robin per accepted connection over `backends` (`host:port` strings), on 127.0.0.1:`port`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        # Bound and listening now, so that the port can go into the nodes' flags before they start.
        self._listener = socket.create_server((host, 0), backlog=128)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self.backends: list[tuple[str, int]] = []
        # connections[i]: connections handed to backends[i]; failures: backends that refused one (each is also a
        # connection the client saw closed at once, which its test reports on its own).
        self.connections: list[int] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._next = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        # What ended the loop before stop() asked it to (checked by start() and by the session at its end).
        self.error: BaseException | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self, backends: Sequence[str]) -> "Balancer":
        assert backends, "a balancer needs at least one backend"
        for backend in backends:
            host, _, port = backend.rpartition(":")
            self.backends.append((host.strip("[]"), int(port)))
        self.connections = [0] * len(self.backends)
        self._thread = threading.Thread(target=self._run, name="strongroom-balancer", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S) or self.error is not None:
            self.stop()
            raise RuntimeError(f"the balancer did not start: {self.error!r}")
        return self

    def stop(self) -> None:
        """Close the listener and every relayed connection; idempotent."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:
                pass  # the loop ended between the check and the call
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT_S)
            assert not self._thread.is_alive(), "the balancer's thread did not end"
            self._thread = None
        self._listener.close()

    def shares(self) -> list[float]:
        """Each backend's fraction of the connections so far."""
        with self._lock:
            total = sum(self.connections)
            return [count / total if total else 0.0 for count in self.connections]

    # -- the loop ---------------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as err:  # noqa: BLE001 -- reported by start() or, later, by the session's checks
            self.error = err
            self._started.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        relays: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # A task per connection, kept so that stop() can cancel the ones still open.
            task = asyncio.current_task()
            if task is not None:
                relays.add(task)
                task.add_done_callback(relays.discard)
            try:
                await self._relay(reader, writer)
            except asyncio.CancelledError:
                # stop(): _relay closed both sides on its way out. Ending normally, not cancelled, because Python
                # 3.11's stream server asks a finished handler task for its exception and logs the CancelledError.
                pass

        server = await asyncio.start_server(handle, sock=self._listener)
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for task in list(relays):
                task.cancel()
            await asyncio.gather(*relays, return_exceptions=True)
            await server.wait_closed()

    def _pick(self) -> int:
        with self._lock:
            index = self._next % len(self.backends)
            self._next += 1
            self.connections[index] += 1
            return index

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        index = self._pick()
        host, port = self.backends[index]
        try:
            node_reader, node_writer = await asyncio.open_connection(host, port)
        except OSError as err:
            with self._lock:
                self.failures.append(f"{host}:{port}: {err}")
            client_writer.close()
            return
        try:
            await asyncio.gather(
                self._pump(client_reader, node_writer),
                self._pump(node_reader, client_writer),
            )
        finally:
            for writer in (client_writer, node_writer):
                writer.close()
            for writer in (client_writer, node_writer):
                try:
                    await writer.wait_closed()
                except (OSError, asyncio.CancelledError):
                    pass

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy until end of stream, then pass the half-close on (a TLS close_notify and FIN reach the other side
        as they were sent); a reset on either side ends this direction."""
        try:
            while chunk := await reader.read(RELAY_CHUNK):
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            writer.close()
