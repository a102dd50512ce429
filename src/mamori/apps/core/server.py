"""The embedded web server: Waitress (pure-Python, production-grade WSGI) with WhiteNoise statics.

`serve` applies migrations and collects static files first, then serves until Ctrl-C or SIGTERM;
companion processes (the worker) are started alongside and stopped on the way out.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import TextIO

from django.conf import settings
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from waitress.server import create_server

from .errors import ApplicationError

STOP_TIMEOUT = 10


def prepare(stdout: TextIO) -> None:
    """Bring the database schema and the collected static files up to date."""
    call_command("migrate", interactive=False, verbosity=0, stdout=stdout)
    call_command("collectstatic", interactive=False, verbosity=0, stdout=stdout)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start(commands: Sequence[Sequence[str]], stdout: TextIO) -> list[subprocess.Popen[bytes]]:
    env = os.environ | {"MAMORI_HOME": str(settings.MAMORI_HOME)}
    processes = []
    for command in commands:
        argv = [sys.executable, "-m", "mamori.cli.main", *command]
        processes.append(subprocess.Popen(argv, env=env))
        stdout.write(f"started: mamori {' '.join(command)} (pid {processes[-1].pid})\n")
    return processes


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _address_error(host: str, port: int, exc: OSError) -> ApplicationError:
    return ApplicationError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server running? try --port)",
        code="address_in_use",
    )


def _check_address(host: str, port: int) -> None:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise _address_error(host, port, exc) from exc


def _proxy_options() -> dict[str, object]:
    """Behind the HTTPS reverse proxy (MAMORI_TRUSTED_PROXY, its address): believe its
    X-Forwarded-Proto and X-Forwarded-For, so mamori knows the request was HTTPS and who sent it.
    Waitress drops those headers from anyone else, so a client cannot claim either."""
    if not settings.MAMORI_TRUSTED_PROXY:
        return {}
    return {
        "trusted_proxy": settings.MAMORI_TRUSTED_PROXY,
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": "x-forwarded-proto x-forwarded-for",
        "clear_untrusted_proxy_headers": True,
    }


def serve(
    *, host: str, port: int, stdout: TextIO, companions: Sequence[Sequence[str]] = (), threads: int = 8
) -> None:
    """Serve the web UI on host:port (port 0 picks a free one) until interrupted.

    Raises ApplicationError (one line for the CLI) when the address cannot be bound.
    """
    _check_address(host, port)  # fail fast, before migrating
    prepare(stdout)  # before the app exists: WhiteNoise indexes the collected files when it starts
    try:
        server = create_server(
            get_wsgi_application(), host=host, port=port, threads=threads, ident="mamori", **_proxy_options()
        )
    except OSError as exc:
        raise _address_error(host, port, exc) from exc
    actual_port = server.socket.getsockname()[1]  # type: ignore[union-attr]
    # Ctrl-C and SIGTERM both stop cleanly (SIGINT too, even when a shell started us in the background).
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = _start(companions, stdout)
    stdout.write(f"serving on http://{host}:{actual_port}/ (Ctrl-C to stop)\n")
    stdout.flush()
    try:
        server.run()  # Waitress returns when interrupted
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stdout.write("stopped\n")
