"""Course images: PNG, JPEG, GIF or WebP recognised by content and decoded whole by Pillow; no SVG.

The browser's name and type are never trusted. An SVG can carry script, so it is refused whatever
its name; so is anything Pillow cannot decode, or a file over the size limit.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from .errors import TrainingError

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded

TOO_LARGE = _("画像が大きすぎます（上限 {limit} KB）。縮小してから登録してください")
NOT_AN_IMAGE = _("PNG・JPEG・GIF・WebP の画像のみ登録できます（SVGは不可。ファイルの中身で判定しています）")


@dataclass(frozen=True)
class CheckedImage:
    content: bytes
    content_type: str
    sha256: str
    name: str


def max_bytes() -> int:
    return int(getattr(settings, "MAMORI_TRAINING_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES))


def image_check(stream: IO[bytes], *, name: str) -> CheckedImage:
    """Read at most the limit + 1 bytes, then decode the whole image; refuse anything else."""
    limit = max_bytes()
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise TrainingError(TOO_LARGE.format(limit=limit // 1024), code="image_too_large")
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format or ""
            if kind not in FORMATS or image.width * image.height > MAX_PIXELS:
                raise TrainingError(NOT_AN_IMAGE, code="not_an_image")
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise TrainingError(NOT_AN_IMAGE, code="not_an_image") from exc
    display = "".join(ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable())[:200]
    return CheckedImage(content, FORMATS[kind], hashlib.sha256(content).hexdigest(), display or "image")
