"""Certificate files: accept a PDF, PNG or JPEG by its content, store it under its SHA-256, re-check it.

The uploaded name and the browser's content type are never trusted: the type comes from the first
bytes (and, for images, from Pillow decoding the whole file), the stored name from the hash. So an
HTML page, an SVG or a script named `.pdf` is refused, and a name like `../../x.pdf` reaches no path.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from .errors import DisposalError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024

# (magic prefix, content type, extension)
SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
]

WRONG_TYPE = _("証明書はPDF・PNG・JPEGのファイルのみ登録できます（ファイルの中身で判定しています）")
TOO_LARGE = _("証明書ファイルが大きすぎます（上限 {limit} MB）。スキャンの解像度を下げて登録してください")
EMPTY = _("証明書ファイルが空です")
BROKEN_IMAGE = _("画像ファイルが壊れているため登録できません")
BROKEN_PDF = _("PDFファイルが途中で切れているため登録できません")


def max_bytes() -> int:
    return int(getattr(settings, "MAMORI_CERTIFICATE_MAX_BYTES", DEFAULT_MAX_BYTES))


def certificate_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "disposal" / "certificates"


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str
    sha256: str
    original_name: str


def safe_display_name(name: str) -> str:
    """The uploaded name for display only: last path part, no control characters, at most 200."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or "certificate"


def _read_bounded(upload: IO[bytes], limit: int) -> bytes:
    buffer = io.BytesIO()
    while chunk := upload.read(CHUNK):
        buffer.write(chunk)
        if buffer.tell() > limit:
            raise DisposalError(TOO_LARGE.format(limit=limit // (1024 * 1024)), code="too_large")
    return buffer.getvalue()


def sniff(content: bytes) -> tuple[str, str]:
    """(content type, extension) from the file's first bytes, or DisposalError."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    raise DisposalError(WRONG_TYPE, code="wrong_type")


def _check_whole(content: bytes, content_type: str) -> None:
    """A right header is not enough: images must decode, a PDF must end with its trailer."""
    if content_type == "application/pdf":
        if b"%%EOF" not in content[-2048:]:
            raise DisposalError(BROKEN_PDF, code="broken_pdf")
        return
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DisposalError(BROKEN_IMAGE, code="broken_image") from exc


def certificate_check(upload: IO[bytes], *, name: str, size: int | None = None) -> CheckedFile:
    """Read an upload (refusing it early when its declared size is over the limit) and check it."""
    limit = max_bytes()
    if size is not None and size > limit:
        raise DisposalError(TOO_LARGE.format(limit=limit // (1024 * 1024)), code="too_large")
    content = _read_bounded(upload, limit)
    if not content:
        raise DisposalError(EMPTY, code="empty")
    content_type, extension = sniff(content)
    _check_whole(content, content_type)
    return CheckedFile(
        content=content,
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=safe_display_name(name),
    )


def certificate_write(checked: CheckedFile) -> str:
    """Store the bytes as `<sha256>.<ext>` (same bytes, same name: idempotent); returns that name."""
    directory = certificate_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = f"{checked.sha256}.{checked.extension}"
    path = directory / stored_name
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(checked.content)
        tmp.replace(path)
    return stored_name


def stored_path(stored_name: str) -> Path:
    return certificate_dir() / stored_name


def stored_sha256(stored_name: str) -> str | None:
    """The SHA-256 of the stored file now, or None when the file is gone."""
    path = stored_path(stored_name)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
