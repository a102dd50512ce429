"""A TCP proxy between mamori and a real server that injects network faults on command.

Faults: `reset_after(n)` resets the connection once `n` more bytes went upstream (a connection
reset mid-upload); `http_errors(n, status)` answers the next `n` new connections with an HTTP
error and closes them (500/503 from an overloaded server); `stall()` / `resume()` stop and restart
forwarding (a server that hangs).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class FaultProxy:
    """Listens on 127.0.0.1:`port` and forwards to 127.0.0.1:`target`."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._reset_in: int | None = None
        self._errors: list[int] = []
        self._running = threading.Event()
        self._running.set()
        self._closed = False
        self._sockets: set[socket.socket] = set()
        self.resets = 0
        self.errors_sent = 0
        threading.Thread(target=self._accept, daemon=True).start()

    # -- commands -------------------------------------------------------------------------------

    def reset_after(self, nbytes: int) -> None:
        with self._lock:
            self._reset_in = nbytes

    def http_errors(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._errors = [status] * count
        self.drop_connections()  # clients open new connections, which get the errors

    def stall(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def drop_connections(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _reset(sock)

    def close(self) -> None:
        self._closed = True
        self._running.set()
        self._listener.close()
        self.drop_connections()

    # -- plumbing -------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            with self._lock:
                status = self._errors.pop(0) if self._errors else None
            if status is not None:
                threading.Thread(target=self._answer_error, args=(client, status), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _answer_error(self, client: socket.socket, status: int) -> None:
        with contextlib.suppress(OSError):
            client.settimeout(5)
            client.recv(65536)  # the request head
            body = b"injected fault"
            client.sendall(
                f"HTTP/1.1 {status} Injected\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
        self.errors_sent += 1
        client.close()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._running.wait()
                if upstream:
                    with self._lock:
                        if self._reset_in is not None:
                            self._reset_in -= len(data)
                            fire = self._reset_in <= 0
                            if fire:
                                self._reset_in = None
                        else:
                            fire = False
                    if fire:
                        self.resets += 1
                        _reset(src)
                        _reset(dst)
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            with self._lock:
                self._sockets.discard(src)
                self._sockets.discard(dst)


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0), as a dropped connection looks."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
