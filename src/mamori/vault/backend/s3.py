"""A repository in an S3-compatible bucket (boto3, path-style), in restic's layout under a prefix.

Credentials come from `BackendOptions` or boto3's usual sources (AWS_* variables, a profile, the
config files). Saves are conditional (`If-None-Match: *`), so creation is atomic; packs above
`multipart_threshold` go up in parts.

**Object Lock.** A repository created with an `ObjectLock` (or in a bucket whose default retention
is set) gives every object except lock files a retain-until date of now + days. The settings sit
next to `config` in `mamori-object-lock.json` (restic ignores it), itself under retention. A locked
object cannot be removed: `remove` raises `ObjectLockedError` with the date, and
`extend_retention` moves the date forward. In a versioned bucket `remove` deletes every version of
the object, so storage is freed, not hidden behind a delete marker.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config as BotoConfig

from mamori.vault.backend import (
    Backend,
    Data,
    FileInfo,
    FileType,
    Handle,
    ObjectLock,
    data_parts,
    data_size,
    is_object_name,
)
from mamori.vault.backend.location import BackendOptions, Location
from mamori.vault.errors import (
    BackendAccessError,
    BackendError,
    BackendNotFoundError,
    ObjectExistsError,
    ObjectLockedError,
    PermanentBackendError,
    TransientBackendError,
)

__all__ = ["LOCK_SETTINGS", "S3Backend"]

T = TypeVar("T")
LOCK_SETTINGS = "mamori-object-lock.json"
_MODES = ("COMPLIANCE", "GOVERNANCE")
_ACCESS = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "401"})
_TRANSIENT = frozenset({"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "503", "500"})
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


Buffer = bytes | bytearray | memoryview


def _cut(parts: Iterable[Buffer], size: int) -> Iterator[bytes]:
    """The concatenation of `parts` in pieces of `size` bytes (the last one shorter), one at a time."""
    piece: list[memoryview] = []
    filled = 0
    for part in parts:
        view = memoryview(part)
        while view:
            take = view[: size - filled]
            piece.append(take)
            filled += len(take)
            view = view[len(take) :]
            if filled == size:
                yield b"".join(piece)
                piece, filled = [], 0
    if piece:
        yield b"".join(piece)


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: botocore.exceptions.ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class S3Backend(Backend):
    """Objects under `bucket/prefix`; thread-safe (one boto3 client with a connection pool)."""

    def __init__(
        self,
        location: Location,
        options: BackendOptions,
        *,
        multipart_threshold: int = 8 * 1024 * 1024,
        part_size: int = 8 * 1024 * 1024,
    ) -> None:
        self.location = str(location)
        self.bucket = location.bucket
        self._prefix = location.path.strip("/") + "/" if location.path.strip("/") else ""
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        try:
            session = boto3.session.Session(
                aws_access_key_id=options.s3_access_key,
                aws_secret_access_key=options.s3_secret_key,
                profile_name=options.s3_profile,
                region_name=options.s3_region,
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise BackendAccessError(
                f"{exc} (AWS_PROFILE or the repository's profile): add it to the AWS config files "
                "or choose another"
            ) from exc
        self._client: Any = session.client(
            "s3",
            endpoint_url=location.endpoint,
            region_name=options.s3_region or session.region_name or "us-east-1",
            config=BotoConfig(
                s3={"addressing_style": "path"},
                retries={"total_max_attempts": 1},  # the retry wrapper decides, with its time bound
                connect_timeout=min(options.timeout, 15.0),
                read_timeout=options.timeout,
                max_pool_connections=16,
            ),
        )
        self._versioned = self._open_bucket()
        self.object_lock = self._lock_settings(options.object_lock)

    # -- connection and settings ------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run an SDK call; map its errors onto the backend tree."""
        try:
            return fn()
        except botocore.exceptions.ClientError as exc:
            raise self._convert(exc, what) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise BackendAccessError(
                f"no S3 credentials for {self.location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "or AWS_PROFILE"
            ) from exc
        except (botocore.exceptions.ParamValidationError, botocore.exceptions.NoRegionError) as exc:
            raise PermanentBackendError(f"{self.location}: {what}: {exc}", path=what) from exc
        except botocore.exceptions.BotoCoreError as exc:  # connection refused, reset, timed out
            raise TransientBackendError(f"{self.location}: {what}: {exc}", path=what) from exc

    def _convert(self, exc: botocore.exceptions.ClientError, what: str) -> BackendError:
        code, status = _code(exc), _status(exc)
        if code in _MISSING and what != "bucket":
            return BackendNotFoundError(f"{what} does not exist", path=what)
        if code in ("NoSuchBucket",) or (what == "bucket" and status == 404):
            return BackendAccessError(
                f"the bucket {self.bucket!r} does not exist at {self.location}: create it (with Object Lock "
                "for an immutable repository) or correct the location"
            )
        if code in _ACCESS or status in (401, 403):
            return BackendAccessError(
                f"the S3 server refused the credentials for {self.location} ({code or status}): check the "
                "access key and secret key (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile)"
            )
        if code in _TRANSIENT or status >= 500 or status == 429:
            return TransientBackendError(f"{self.location}: {what}: {code or status}", path=what)
        return PermanentBackendError(f"{self.location}: {what}: {code} {exc}", path=what)

    def _open_bucket(self) -> bool:
        """Check the bucket and credentials now (nothing written yet); True if versioned."""
        self._call("bucket", lambda: self._client.head_bucket(Bucket=self.bucket))
        answer = self._call("bucket", lambda: self._client.get_bucket_versioning(Bucket=self.bucket))
        return answer.get("Status") in ("Enabled", "Suspended")

    def _bucket_lock(self) -> tuple[bool, ObjectLock | None]:
        """(Object Lock enabled, the bucket's default retention)."""
        try:
            answer = self._client.get_object_lock_configuration(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            if _status(exc) in (404, 400) or "ObjectLockConfiguration" in _code(exc):
                return False, None
            raise self._convert(exc, "bucket") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise TransientBackendError(f"{self.location}: object lock configuration: {exc}") from exc
        config = answer.get("ObjectLockConfiguration", {})
        enabled = config.get("ObjectLockEnabled") == "Enabled"
        default = config.get("Rule", {}).get("DefaultRetention")
        if enabled and default:
            days = int(default.get("Days") or 0) or 365 * int(default.get("Years") or 0)
            return True, ObjectLock(str(default.get("Mode", "GOVERNANCE")), days)
        return enabled, None

    def _lock_settings(self, requested: ObjectLock | None) -> ObjectLock | None:
        """The retention for this repository: asked for at init, stored beside config, or the bucket's default."""
        if requested is not None:
            if requested.mode not in _MODES or requested.days < 1:
                raise PermanentBackendError(
                    "object lock needs a mode (COMPLIANCE or GOVERNANCE) and days >= 1"
                )
            enabled, _default = self._bucket_lock()
            if not enabled:
                raise BackendAccessError(
                    f"the bucket {self.bucket!r} has no Object Lock, so {self.location} cannot be immutable: "
                    "use a bucket created with Object Lock enabled (it cannot be switched on later everywhere)"
                )
            return requested
        try:
            body = self._call(
                LOCK_SETTINGS,
                lambda: self._client.get_object(Bucket=self.bucket, Key=self._key_of(LOCK_SETTINGS)),
            )
            doc = json.loads(body["Body"].read())
            return ObjectLock(str(doc["mode"]), int(doc["days"]))
        except BackendNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentBackendError(f"{self.location}/{LOCK_SETTINGS} is damaged: {exc}") from exc
        _enabled, default = self._bucket_lock()
        return default

    # -- keys -----------------------------------------------------------------------------------

    def _key_of(self, name: str) -> str:
        return self._prefix + name

    def _key(self, handle: Handle) -> str:
        if handle.type is FileType.CONFIG:
            return self._key_of("config")
        if handle.type is FileType.PACK:
            return self._key_of(f"data/{handle.name[:2]}/{handle.name}")
        return self._key_of(f"{handle.type.value}/{handle.name}")

    def _lock_args(self, handle_type: FileType | None) -> dict[str, Any]:
        if self.object_lock is None or handle_type is FileType.LOCK:
            return {}
        until = datetime.now(UTC) + timedelta(days=self.object_lock.days)
        return {"ObjectLockMode": self.object_lock.mode, "ObjectLockRetainUntilDate": until}

    # -- operations -------------------------------------------------------------------------------

    def create(self) -> None:
        """S3 has no directories; an immutable repository records its retention beside `config`."""
        if self.object_lock is None:
            return
        body = json.dumps({"mode": self.object_lock.mode, "days": self.object_lock.days}).encode()
        key = self._key_of(LOCK_SETTINGS)
        try:
            self._call(
                LOCK_SETTINGS,
                lambda: self._client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*", **self._lock_args(None)
                ),
            )
        except PermanentBackendError as exc:
            if "PreconditionFailed" not in str(exc):
                raise

    def save(self, handle: Handle, data: Data) -> None:
        """One conditional PUT, or a multipart upload for large packs."""
        what = str(handle)
        key = self._key(handle)
        try:
            if data_size(data) > self.multipart_threshold:
                self._multipart(key, data_parts(data), handle.type, what)
            else:
                body = b"".join(data_parts(data)) if isinstance(data, list) else bytes(data)
                self._call(
                    what,
                    lambda: self._client.put_object(
                        Bucket=self.bucket,
                        Key=key,
                        Body=body,
                        IfNoneMatch="*",
                        **self._lock_args(handle.type),
                    ),
                )
        except PermanentBackendError as exc:
            cause = exc.__cause__
            if isinstance(cause, botocore.exceptions.ClientError) and _status(cause) == 412:
                raise ObjectExistsError(f"{what} already exists", path=what) from exc
            raise

    def _multipart(self, key: str, body: Iterable[Buffer], handle_type: FileType, what: str) -> None:
        """Upload `body` (the parts of a pack) in parts of `part_size`, cut from it one at a time, so
        a pack in flight costs one part more than the pack, not a joined copy of it."""
        upload = self._call(
            what,
            lambda: self._client.create_multipart_upload(
                Bucket=self.bucket, Key=key, **self._lock_args(handle_type)
            ),
        )
        upload_id = upload["UploadId"]
        try:
            parts = []
            for number, chunk in enumerate(_cut(body, self.part_size), 1):
                answer = self._call(
                    what,
                    lambda chunk=chunk, number=number: self._client.upload_part(  # type: ignore[misc]
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                    ),
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
            self._call(
                what,
                lambda: self._client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                ),
            )
        except BaseException:
            try:
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                pass  # the server expires abandoned uploads
            raise

    def load(self, handle: Handle, offset: int = 0, length: int = 0) -> bytes:
        """A ranged GET; a range past the end reads as empty."""
        what = str(handle)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(handle)}
        if offset or length:
            args["Range"] = f"bytes={offset}-{offset + length - 1 if length > 0 else ''}"

        def get() -> bytes:
            try:
                answer = self._client.get_object(**args)
            except botocore.exceptions.ClientError as exc:
                if _code(exc) == "InvalidRange" or _status(exc) == 416:
                    self.stat(handle)  # missing objects stay missing
                    return b""
                raise
            return bytes(answer["Body"].read())

        return self._call(what, get)

    def stat(self, handle: Handle) -> int:
        """HEAD: the size."""
        what = str(handle)
        answer = self._call(what, lambda: self._client.head_object(Bucket=self.bucket, Key=self._key(handle)))
        return int(answer["ContentLength"])

    def list(self, file_type: FileType) -> Iterator[FileInfo]:
        """Paged listing of the type's prefix; only 64-hex names (no temporary uploads exist in S3)."""
        if file_type is FileType.CONFIG:
            yield from self.config_info()
            return
        prefix = self._key_of(file_type.value + "/")

        def pages() -> builtins.list[FileInfo]:
            found = []
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    name = item["Key"].rpartition("/")[2]
                    if is_object_name(name):
                        found.append(FileInfo(name, int(item["Size"])))
            return found

        yield from self._call(prefix, pages)

    def remove(self, handle: Handle) -> None:
        """Delete the object (every version of it in a versioned bucket); a locked one raises
        `ObjectLockedError` with its retain-until date."""
        what = str(handle)
        key = self._key(handle)
        if not self._versioned:
            self.stat(handle)  # S3 deletes of missing keys succeed: report them as missing
            self._call(what, lambda: self._client.delete_object(Bucket=self.bucket, Key=key))
            return
        versions = self._versions(key, what)
        if not versions or versions[0][1]:
            raise BackendNotFoundError(f"{what} does not exist", path=what)
        for version_id, _marker in versions:
            try:
                self._client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
            except botocore.exceptions.ClientError as exc:
                if _code(exc) != "AccessDenied" and _status(exc) != 403:
                    raise self._convert(exc, what) from exc
                if handle.type is FileType.LOCK:  # a default retention locked it: hide it instead
                    self._call(what, lambda: self._client.delete_object(Bucket=self.bucket, Key=key))
                    return
                until = self.retention(handle)
                raise ObjectLockedError(
                    f"{what} is under Object Lock until {until:%Y-%m-%d %H:%M} UTC: it stays until then"
                    if until
                    else f"{what} cannot be deleted: the S3 server refused (legal hold or policy)",
                    path=what,
                    retain_until=until,
                ) from exc
            except botocore.exceptions.BotoCoreError as exc:
                raise TransientBackendError(f"{self.location}: {what}: {exc}", path=what) from exc

    def _versions(self, key: str, what: str) -> builtins.list[tuple[str, bool]]:
        """(version id, is a delete marker) of one key, newest first."""

        def run() -> builtins.list[tuple[str, bool]]:
            answer = self._client.list_object_versions(Bucket=self.bucket, Prefix=key)
            found = [
                (v["LastModified"], v["IsLatest"], v["VersionId"], False)
                for v in answer.get("Versions", [])
                if v["Key"] == key
            ] + [
                (m["LastModified"], m["IsLatest"], m["VersionId"], True)
                for m in answer.get("DeleteMarkers", [])
                if m["Key"] == key
            ]
            found.sort(key=lambda v: (v[1], v[0]), reverse=True)
            return [(v[2], v[3]) for v in found]

        return self._call(what, run)

    def retention(self, handle: Handle) -> datetime | None:
        """The retain-until date read back from the server; None when unlocked or expired."""
        what = str(handle)
        try:
            answer = self._client.get_object_retention(Bucket=self.bucket, Key=self._key(handle))
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                raise BackendNotFoundError(f"{what} does not exist", path=what) from exc
            if _status(exc) in (400, 404) or "ObjectLock" in _code(exc):
                return None
            raise self._convert(exc, what) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise TransientBackendError(f"{self.location}: {what}: {exc}", path=what) from exc
        until = answer.get("Retention", {}).get("RetainUntilDate")
        if until is None:
            return None
        until = until.astimezone(UTC)
        return until if until > datetime.now(UTC) else None

    def extend_retention(self, handle: Handle, until: datetime) -> None:
        """Move the retain-until date to `until` if that is later (retention never shortens)."""
        if self.object_lock is None:
            super().extend_retention(handle, until)
        current = self.retention(handle)
        if current is not None and current >= until:
            return
        what = str(handle)
        mode = self.object_lock.mode if self.object_lock else "GOVERNANCE"
        self._call(
            what,
            lambda: self._client.put_object_retention(
                Bucket=self.bucket, Key=self._key(handle), Retention={"Mode": mode, "RetainUntilDate": until}
            ),
        )

    def delete(self) -> None:
        """Every object of the repository (locked ones raise `ObjectLockedError`)."""
        self.remove_each()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
