"""restic's REST protocol v2 (rest-server, `rclone serve restic`): one HTTP request per operation.

Status codes map onto the error tree as restic's client does (`internal/backend/rest`): 404 is a
missing object, 401 wrong credentials, 403 on a delete an append-only server, 5xx and broken or
stalled connections are transient. Servers differ on overwrites (rest-server refuses, rclone
replaces), so `save` asks first and the backend does not claim atomic creation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import urllib3
from urllib3.exceptions import HTTPError

from mamori.vault.backend import Backend, Data, FileInfo, FileType, Handle, data_parts, is_object_name
from mamori.vault.backend.location import BackendOptions, Location
from mamori.vault.errors import (
    AppendOnlyError,
    BackendAccessError,
    BackendError,
    BackendNotFoundError,
    ObjectExistsError,
    PermanentBackendError,
    TransientBackendError,
)

__all__ = ["RestBackend"]

_V2 = "application/vnd.x.restic.rest.v2"


class RestBackend(Backend):
    """A repository behind a REST server; thread-safe (a pool of keep-alive connections)."""

    atomic_create = False

    def __init__(self, location: Location, options: BackendOptions) -> None:
        self.location = str(location)
        self._base = location.endpoint + location.path
        user = options.rest_username or location.user
        password = options.rest_password if options.rest_password is not None else location.password
        headers = {"Accept": _V2}
        if user or password:
            headers.update(urllib3.make_headers(basic_auth=f"{user}:{password}"))
        self._headers = headers
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=16,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=min(options.timeout, 15.0), read=options.timeout),
        )
        self._request("GET", self._url(FileType.KEY, ""), what="keys/", ok=(200, 404))

    def _url(self, file_type: FileType, name: str) -> str:
        if file_type is FileType.CONFIG:
            return self._base + "config"
        return f"{self._base}{file_type.value}/{name}"

    def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        body: bytes | None = None,
        ok: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        # urllib3 replaces (does not merge) a pool's default headers when a request has its own
        merged = {**self._headers, **(headers or {})}
        try:
            response = self._http.request(
                method, url, body=body, headers=merged, preload_content=True, redirect=False
            )
        except HTTPError as exc:  # refused, reset, timed out, broken mid-transfer: worth another try
            raise TransientBackendError(f"{self.location}: {what}: {exc}", path=what) from exc
        if response.status not in ok:
            raise self._status_error(response, method, what)
        return response

    def _status_error(self, response: urllib3.BaseHTTPResponse, method: str, what: str) -> BackendError:
        status = response.status
        if status == 404:
            return BackendNotFoundError(f"{what} does not exist", path=what)
        if status == 401:
            return BackendAccessError(
                f"the REST server at {self.location} refused the user name or password (HTTP 401): "
                "check the credentials in the location or MAMORI_REST_USERNAME/PASSWORD",
                path=what,
            )
        if status == 403 and method == "DELETE":
            return AppendOnlyError(
                f"the REST server at {self.location} refuses to delete {what} (HTTP 403): it is append-only; "
                "run forget and prune against a server started without --append-only",
                path=what,
            )
        if status in (408, 429) or status >= 500:
            return TransientBackendError(f"{self.location}: {what}: HTTP {status}", path=what)
        return PermanentBackendError(
            f"the REST server at {self.location} answered HTTP {status} to {method} {what}", path=what
        )

    def create(self) -> None:
        """`POST /?create=true`: the server makes the directories."""
        self._request("POST", self._base + "?create=true", what="create")

    def save(self, handle: Handle, data: Data) -> None:
        """Refuse an existing name, then upload in one POST."""
        what = str(handle)
        url = self._url(handle.type, handle.name)
        if self._request("HEAD", url, what=what, ok=(200, 404)).status == 200:
            raise ObjectExistsError(f"{what} already exists", path=what)
        body = b"".join(data_parts(data)) if isinstance(data, list) else bytes(data)
        response = self._request(
            "POST",
            url,
            what=what,
            body=body,
            ok=(200, 201, 403),
            headers={"Content-Type": "application/octet-stream"},
        )
        if response.status == 403:  # rest-server and append-only servers refuse an existing file
            raise ObjectExistsError(f"{what} already exists", path=what)

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        """GET with a Range header; a range past the end reads as empty."""
        what = str(handle)
        headers = {}
        if offset or length:
            end = str(offset + length - 1) if length > 0 else ""
            headers["Range"] = f"bytes={offset}-{end}"
        response = self._request(
            "GET", self._url(handle.type, handle.name), what=what, ok=(200, 206, 416), headers=headers
        )
        if response.status == 416:
            self.stat(handle)  # 416 for a missing file on some servers: report it as missing
            return b""
        data = response.data
        if response.status == 200 and (offset or length):  # the server ignored the range
            data = data[offset : offset + length] if length > 0 else data[offset:]
        return bytes(data)

    def stat(self, handle: Handle) -> int:
        """HEAD: the size from Content-Length."""
        response = self._request("HEAD", self._url(handle.type, handle.name), what=str(handle))
        return int(response.headers.get("Content-Length", "0"))

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        """One GET of the type's directory (v2 answers names with sizes)."""
        if file_type is FileType.CONFIG:
            yield from self.config_info()
            return
        what = file_type.value + "/"
        response = self._request("GET", self._url(file_type, ""), what=what, ok=(200, 404))
        if response.status == 404:
            return
        try:
            items = json.loads(response.data or b"[]")
        except ValueError as exc:
            raise PermanentBackendError(
                f"the REST server listed {what} as something other than JSON"
            ) from exc
        v2 = response.headers.get("Content-Type", "").startswith(_V2)
        for item in items if isinstance(items, list) else []:
            try:
                if v2 and isinstance(item, dict) and is_object_name(str(item["name"])):
                    yield FileInfo(str(item["name"]), int(item["size"]))
                elif isinstance(item, str) and is_object_name(item):  # a v1 server: names only
                    yield FileInfo(item, self.stat(Handle(file_type, item)))
            except (KeyError, TypeError, ValueError):  # a malformed entry: skipped like a stranger
                continue

    def remove(self, handle: Handle) -> None:
        """DELETE; an append-only server refuses (`AppendOnlyError`) except for locks."""
        self._request("DELETE", self._url(handle.type, handle.name), what=str(handle))

    def delete(self) -> None:
        """Every file, then the config (servers rarely implement `DELETE /`)."""
        self.remove_each()

    def close(self) -> None:
        """Drop the pooled connections."""
        self._http.clear()
