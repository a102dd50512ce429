"""A repository on an SFTP server (paramiko), in restic's layout, as restic `internal/backend/sftp`.

The server's host key must already be in a known-hosts file (`~/.ssh/known_hosts` unless given):
an unknown or changed key is refused, never trusted on first use. Login is by key only.
Saves write a temporary file and rename it: OpenSSH's SFTP rename refuses an existing target, so
creation is atomic. One SSH connection; each thread gets its own SFTP channel. A dropped
connection is a transient error and the next call connects again.
"""

from __future__ import annotations

import base64
import errno
import getpass
import hashlib
import io
import os
import posixpath
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import paramiko

from mamori.vault.backend import Backend, Data, FileInfo, FileType, Handle, data_parts, is_object_name
from mamori.vault.backend.location import BackendOptions, Location
from mamori.vault.errors import (
    BackendAccessError,
    BackendError,
    BackendNotFoundError,
    ObjectExistsError,
    PermanentBackendError,
    TransientBackendError,
)

__all__ = ["SFTPBackend"]

T = TypeVar("T")
_DIRS = ("data", "index", "keys", "locks", "snapshots")
_SMALL_READ = 64 * 1024
_DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


def _fingerprint(key: paramiko.PKey) -> str:
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class SFTPBackend(Backend):
    """Files under a directory of an SFTP server."""

    def __init__(self, location: Location, options: BackendOptions) -> None:
        self.location = str(location)
        self._host = location.host.strip("[]")
        self._port = location.port or 22
        self._user = location.user or getpass.getuser()
        self._root = location.path.rstrip("/") or "/"
        self._options = options
        self._known_hosts = options.sftp_known_hosts or os.path.expanduser("~/.ssh/known_hosts")
        self._pkey = self._load_key()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._channels: list[paramiko.SFTPClient] = []
        self._generation = 0
        self._transport: paramiko.Transport | None = None
        self._connect()

    # -- connection ------------------------------------------------------------------------------

    def _load_key(self) -> paramiko.PKey:
        if self._options.sftp_key:
            return self._key_from_text(self._options.sftp_key)
        paths = (
            [self._options.sftp_key_file]
            if self._options.sftp_key_file
            else [os.path.expanduser(f"~/.ssh/{name}") for name in _DEFAULT_KEYS]
        )
        for path in paths:
            if path is None or not os.path.exists(path):
                continue
            try:
                return paramiko.PKey.from_path(path, self._options.sftp_key_passphrase)
            except paramiko.PasswordRequiredException as exc:
                raise BackendAccessError(
                    f"the SSH key {path} is encrypted: give its passphrase (MAMORI_SFTP_KEY_PASSPHRASE)"
                ) from exc
            except (paramiko.SSHException, ValueError, OSError) as exc:
                raise BackendAccessError(
                    f"cannot read the SSH key {path} ({exc}): check the file and its passphrase"
                ) from exc
        raise BackendAccessError(
            f"no SSH key for {self.location}: give one with MAMORI_SFTP_KEY (key files only, no passwords)"
        )

    def _key_from_text(self, text: str) -> paramiko.PKey:
        for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                key: paramiko.PKey = cls.from_private_key(
                    io.StringIO(text), self._options.sftp_key_passphrase
                )
                return key
            except paramiko.PasswordRequiredException as exc:
                raise BackendAccessError(
                    f"the SSH key for {self.location} is encrypted: give its passphrase"
                ) from exc
            except (paramiko.SSHException, ValueError):
                continue
        raise BackendAccessError(
            f"the SSH key for {self.location} cannot be read: check the key and its passphrase"
        )

    def _host_name(self) -> str:
        return self._host if self._port == 22 else f"[{self._host}]:{self._port}"

    def _check_host_key(self, key: paramiko.PKey) -> None:
        """Refuse a server whose key is not in the known-hosts file, or differs from it."""
        try:
            known = paramiko.HostKeys(self._known_hosts)
        except FileNotFoundError:
            known = paramiko.HostKeys()
        except (OSError, paramiko.SSHException) as exc:
            raise BackendAccessError(f"cannot read the known-hosts file {self._known_hosts}: {exc}") from exc
        entries = known.lookup(self._host_name())
        if entries is None:
            raise BackendAccessError(
                f"the SSH host key of {self._host_name()} is not in {self._known_hosts} (it offers "
                f"{_fingerprint(key)}): confirm it with the server's administrator, then add it "
                f"(ssh-keyscan -p {self._port} {self._host} >> {self._known_hosts})"
            )
        if entries.get(key.get_name()) != key:
            raise BackendAccessError(
                f"the SSH host key of {self._host_name()} has CHANGED (now {_fingerprint(key)}), refusing "
                f"to connect: if the server was reinstalled, replace its line in {self._known_hosts}"
            )

    def _connect(self) -> None:
        """Open the SSH connection, verify the host key, log in with the key."""
        timeout = self._options.timeout
        try:
            sock = socket.create_connection((self._host, self._port), timeout=min(timeout, 15.0))
        except OSError as exc:
            raise TransientBackendError(
                f"cannot reach the SFTP server {self._host_name()}: {exc.strerror or exc}"
            ) from exc
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = timeout
            transport.start_client(timeout=timeout)
            self._check_host_key(transport.get_remote_server_key())
            transport.auth_publickey(self._user, self._pkey)
            sock.settimeout(timeout)
        except paramiko.AuthenticationException as exc:
            transport.close()
            raise BackendAccessError(
                f"the SFTP server {self._host_name()} refused the login as {self._user} with the SSH key: "
                "check the user name and that the key is in the server's authorized_keys"
            ) from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            transport.close()
            raise TransientBackendError(f"SSH handshake with {self._host_name()} failed: {exc}") from exc
        except BaseException:
            transport.close()
            raise
        with self._lock:
            old, self._transport = self._transport, transport
            self._generation += 1
            channels, self._channels = self._channels, []
        for channel in channels:
            channel.close()
        if old is not None:
            old.close()

    def _sftp(self) -> paramiko.SFTPClient:
        """This thread's SFTP channel on the current connection (reconnecting after a drop)."""
        with self._lock:
            transport, generation = self._transport, self._generation
        if transport is None or not transport.is_active():
            self._connect()
            with self._lock:
                transport, generation = self._transport, self._generation
        cached = getattr(self._local, "client", None)
        if cached is not None and cached[0] == generation:
            client: paramiko.SFTPClient = cached[1]
            return client
        assert transport is not None
        try:
            client = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransientBackendError(f"cannot open an SFTP channel to {self._host_name()}: {exc}") from exc
        if client is None:
            raise TransientBackendError(f"cannot open an SFTP channel to {self._host_name()}")
        client.get_channel().settimeout(self._options.timeout)
        with self._lock:
            self._channels.append(client)
        self._local.client = (generation, client)
        return client

    def _call(self, what: str, fn: Callable[[paramiko.SFTPClient], T]) -> T:
        """Run `fn` with this thread's channel; map errors onto the backend tree."""
        try:
            return fn(self._sftp())
        except BackendError:
            raise
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
                raise BackendNotFoundError(f"{what} does not exist", path=what) from exc
            if isinstance(exc, PermissionError) or exc.errno == errno.EACCES:
                raise PermanentBackendError(
                    f"{self.location}: {what}: permission denied on the SFTP server", path=what
                ) from exc
            if isinstance(exc, TimeoutError | socket.timeout | ConnectionError) or exc.errno is None:
                self._drop()
                raise TransientBackendError(f"{self.location}: {what}: {exc}", path=what) from exc
            raise PermanentBackendError(f"{self.location}: {what}: {exc}", path=what) from exc
        except (paramiko.SSHException, EOFError) as exc:
            self._drop()
            raise TransientBackendError(
                f"{self.location}: {what}: connection lost ({exc})", path=what
            ) from exc

    def _drop(self) -> None:
        """Forget a broken connection; the next call connects again."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    # -- layout -------------------------------------------------------------------------------

    def _dir(self, handle: Handle) -> str:
        if handle.type is FileType.CONFIG:
            return self._root
        if handle.type is FileType.PACK:
            return posixpath.join(self._root, "data", handle.name[:2])
        return posixpath.join(self._root, handle.type.value)

    def _path(self, handle: Handle) -> str:
        if handle.type is FileType.CONFIG:
            return posixpath.join(self._root, "config")
        return posixpath.join(self._dir(handle), handle.name)

    @staticmethod
    def _mkdirs(sftp: paramiko.SFTPClient, path: str) -> None:
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if not sub:
                continue
            try:
                sftp.mkdir(sub, 0o700)
            except OSError:
                if not stat.S_ISDIR(sftp.stat(sub).st_mode or 0):
                    raise

    # -- operations -------------------------------------------------------------------------------

    def create(self) -> None:
        """Make restic's directories, including `data/00` … `data/ff`."""

        def run(sftp: paramiko.SFTPClient) -> None:
            self._mkdirs(sftp, self._root)
            existing = set(sftp.listdir(self._root))
            for sub in _DIRS:
                if sub not in existing:
                    sftp.mkdir(posixpath.join(self._root, sub), 0o700)
            data = posixpath.join(self._root, "data")
            present = set(sftp.listdir(data))
            for i in range(256):
                if f"{i:02x}" not in present:
                    sftp.mkdir(posixpath.join(data, f"{i:02x}"), 0o700)

        self._call("create", run)

    def save(self, handle: Handle, data: Data) -> None:
        """Temporary file, then rename (which refuses an existing target)."""
        what = str(handle)
        final = self._path(handle)
        tmp = f"{final}-tmp-{os.urandom(8).hex()}"

        def run(sftp: paramiko.SFTPClient) -> None:
            try:
                f = sftp.open(tmp, "wb")
            except FileNotFoundError:
                self._mkdirs(sftp, self._dir(handle))
                f = sftp.open(tmp, "wb")
            try:
                with f:
                    f.set_pipelined(True)
                    for part in data_parts(data):
                        f.write(bytes(part) if isinstance(part, memoryview) else part)
                sftp.chmod(tmp, 0o400)
                try:
                    sftp.rename(tmp, final)
                except OSError as exc:
                    try:
                        sftp.stat(final)
                    except FileNotFoundError:
                        raise exc from None
                    raise ObjectExistsError(f"{what} already exists", path=what) from exc
            except BaseException:
                try:
                    sftp.remove(tmp)
                except (OSError, paramiko.SSHException, EOFError):
                    pass  # a leftover temp file is never listed
                raise

        self._call(what, run)

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        """Read a range (prefetching whole files)."""

        def run(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(self._path(handle), "rb") as f:
                if 0 < length <= _SMALL_READ:
                    f.seek(offset)
                    return bytes(f.read(length))
                if length <= 0 and offset == 0:
                    f.prefetch()
                    return bytes(f.read())
                # pipelined requests (prefetch), not one round trip per 32 KiB
                size = int(f.stat().st_size or 0)
                end = size if length <= 0 else min(size, offset + length)
                if end <= offset:
                    return b""
                f.seek(offset)
                f.prefetch(end)  # from the position to `end` only
                return bytes(f.read(end - offset))

        return self._call(str(handle), run)

    def stat(self, handle: Handle) -> int:
        """The size from the server."""
        return self._call(str(handle), lambda sftp: int(sftp.stat(self._path(handle)).st_size or 0))

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        """The type's directory (every `data/XX` for packs); temp files and strangers skipped."""
        if file_type is FileType.CONFIG:
            yield from self.config_info()
            return
        base = posixpath.join(self._root, file_type.value)

        def run(sftp: paramiko.SFTPClient) -> list[FileInfo]:
            dirs = [base]
            if file_type is FileType.PACK:
                try:
                    dirs = sorted(
                        posixpath.join(base, a.filename)
                        for a in sftp.listdir_attr(base)
                        if stat.S_ISDIR(a.st_mode or 0)
                    )
                except FileNotFoundError:
                    return []
            found: list[FileInfo] = []
            for directory in dirs:
                try:
                    entries = sftp.listdir_attr(directory)
                except FileNotFoundError:
                    continue
                found.extend(
                    FileInfo(a.filename, int(a.st_size or 0)) for a in entries if is_object_name(a.filename)
                )
            return found

        yield from self._call(base, run)

    def remove(self, handle: Handle) -> None:
        """Delete one file."""
        self._call(str(handle), lambda sftp: sftp.remove(self._path(handle)))

    def delete(self) -> None:
        """Remove the repository directory tree."""

        def rmtree(sftp: paramiko.SFTPClient, path: str) -> None:
            for a in sftp.listdir_attr(path):
                child = posixpath.join(path, a.filename)
                if stat.S_ISDIR(a.st_mode or 0):
                    rmtree(sftp, child)
                else:
                    sftp.remove(child)
            sftp.rmdir(path)

        try:
            self._call(self._root, lambda sftp: rmtree(sftp, self._root))
        except BackendNotFoundError:
            return

    def close(self) -> None:
        """Close every channel and the connection."""
        with self._lock:
            channels, self._channels = self._channels, []
            transport, self._transport = self._transport, None
            self._generation += 1
        for channel in channels:
            channel.close()
        if transport is not None:
            transport.close()
