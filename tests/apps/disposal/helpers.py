"""Building blocks for the disposal tests: real certificate files and media in each state."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from django.test import Client
from django.utils import timezone
from PIL import Image

from mamori.apps.core.models import Classification, Department, NetworkZone
from mamori.apps.disposal import services
from mamori.apps.disposal.certificates import CheckedFile, certificate_check
from mamori.apps.disposal.models import DisposalBatch, Medium, MediumKind, Method

# A minimal but complete PDF (header, one empty page, xref, trailer), built here, not by our writer.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n0\n%%EOF\n"
)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def checked_pdf(content: bytes = MINIMAL_PDF, name: str = "certificate.pdf") -> CheckedFile:
    return certificate_check(io.BytesIO(content), name=name)


# `stored` media went into storage this long ago, so a hand-over dated up to then is in order.
STORED_DAYS_AGO = 60


def medium(
    label: str,
    department: Department,
    *,
    zone: str = NetworkZone.LGWAN,
    actor: object = "test",
    registered_at: datetime | None = None,
) -> Medium:
    return services.medium_register(
        actor=actor,  # type: ignore[arg-type]
        scope=None,
        label=label,
        kind=MediumKind.USB,
        department=department,
        classification=Classification.CONFIDENTIAL_2,
        network_zone=zone,
        registered_at=registered_at,
    )


def stored(label: str, department: Department, **kwargs: object) -> Medium:
    """A medium registered and stored STORED_DAYS_AGO days ago."""
    at = timezone.now() - timedelta(days=STORED_DAYS_AGO)
    return services.medium_store(
        actor="test",
        scope=None,
        medium=medium(label, department, registered_at=at, **kwargs),  # type: ignore[arg-type]
        location="保管庫",
        stored_at=at,
    )


def handed_over(media: list[Medium], *, days_ago: int = 1, method: str = Method.DESTROY) -> DisposalBatch:
    return services.batch_hand_over(
        actor="test",
        scope=None,
        media=media,
        contractor="テスト処理株式会社",
        method=method,
        handed_over_at=timezone.now() - timedelta(days=days_ago),
        received_by="受領 太郎",
        witness="立会 花子",
    )


def signed_in(world: object, role: str) -> Client:
    """A test client signed in as the world's login for `role`."""
    client = Client()
    client.force_login(world.users[role])  # type: ignore[attr-defined]
    return client
