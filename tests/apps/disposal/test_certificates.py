"""Hostile certificate files, built directly (not by our writer): lying types, oversized uploads,
path-traversal names; and a stored certificate whose bytes were changed is flagged by its hash."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.disposal import certificates, services
from mamori.apps.disposal.certificates import certificate_check
from mamori.apps.disposal.errors import DisposalError
from mamori.apps.disposal.models import Certificate, MediumState
from mamori.apps.disposal.selectors import certificate_verify

from .helpers import MINIMAL_PDF, checked_pdf, handed_over, png_bytes, stored

LIARS = {
    "html": b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "script": b"#!/bin/sh\nrm -rf / --no-preserve-root\n",
    "pdf_inside_html": b"<html>%PDF-1.4 ... %%EOF</html>",
    "zip": b"PK\x03\x04" + b"\x00" * 100,
}


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_a_file_that_lies_about_its_type_is_refused(kind):
    with pytest.raises(DisposalError) as exc:
        certificate_check(io.BytesIO(LIARS[kind]), name="certificate.pdf")
    assert exc.value.code == "wrong_type"


def test_a_right_header_on_a_broken_body_is_refused():
    with pytest.raises(DisposalError) as exc:
        certificate_check(io.BytesIO(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>"), name="x.png")
    assert exc.value.code == "broken_image"
    with pytest.raises(DisposalError) as exc:
        certificate_check(io.BytesIO(MINIMAL_PDF[:200]), name="x.pdf")
    assert exc.value.code == "broken_pdf"


def test_pdf_and_png_are_accepted_by_content_whatever_their_name():
    pdf = certificate_check(io.BytesIO(MINIMAL_PDF), name="scan.jpg")
    png = certificate_check(io.BytesIO(png_bytes()), name="scan")
    assert (pdf.content_type, pdf.extension) == ("application/pdf", "pdf")
    assert (png.content_type, png.extension) == ("image/png", "png")


def test_an_oversized_file_is_refused_by_declared_and_by_read_size(settings):
    settings.MAMORI_CERTIFICATE_MAX_BYTES = 1024 * 1024
    big = MINIMAL_PDF + b"0" * (1024 * 1024)
    with pytest.raises(DisposalError) as exc:
        certificate_check(io.BytesIO(big), name="big.pdf", size=len(big))
    assert exc.value.code == "too_large" and "1 MB" in exc.value.message
    with pytest.raises(DisposalError) as exc:  # a size that lies: the read itself stops at the limit
        certificate_check(io.BytesIO(big), name="big.pdf", size=10)
    assert exc.value.code == "too_large"


@pytest.mark.parametrize(
    "name",
    ["../../../etc/passwd.pdf", "..\\..\\windows\\system32\\x.pdf", "/abs/path.pdf", "a\x00b\n.pdf", ".."],
)
def test_a_path_traversal_name_reaches_no_path(world, name, media_root):
    m = stored("USB-1", world.gyokaku)
    batch = handed_over([m])
    checked = certificate_check(io.BytesIO(MINIMAL_PDF), name=name)
    certificate = services.certificate_register(
        actor="o", batch=batch, checked=checked, number="C", issued_on=timezone.localdate(), media=[m]
    )
    files = [p for p in media_root.rglob("*") if p.is_file()]
    assert files == [certificates.certificate_dir() / f"{certificate.sha256}.pdf"]
    assert "/" not in certificate.original_name and "\\" not in certificate.original_name
    assert "\x00" not in certificate.original_name and not certificate.original_name.startswith(".")


def test_a_tampered_stored_certificate_is_flagged_by_its_hash(world):
    m = stored("USB-1", world.gyokaku)
    batch = handed_over([m])
    certificate = services.certificate_register(
        actor="o", batch=batch, checked=checked_pdf(), number="C", issued_on=timezone.localdate(), media=[m]
    )
    assert certificate_verify(certificate).intact
    path = certificates.stored_path(certificate.stored_name)
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01  # one flipped bit
    path.write_bytes(bytes(data))
    check = certificate_verify(certificate)
    assert not check.intact and not check.missing
    client = Client()
    client.force_login(world.users[Role.AUDITOR])
    page = client.get(reverse("disposal:batch-detail", args=[batch.pk])).content.decode()
    assert 'data-flag="tampered"' in page
    path.unlink()
    assert certificate_verify(certificate).missing


def _upload(client: Client, batch_pk: int, media_pks: list[int], content: bytes, name: str):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(
        reverse("disposal:certificate-upload", args=[batch_pk]),
        {"file": upload, "number": "C-9", "issued_on": timezone.localdate().isoformat(), "media": media_pks},
    )


def test_a_lying_upload_through_the_page_shows_one_line_and_saves_nothing(world, media_root):
    m = stored("USB-1", world.gyokaku)
    batch = handed_over([m])
    events = AuditEvent.objects.count()
    client = Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    response = _upload(client, batch.pk, [m.pk], LIARS["svg"], "certificate.pdf")
    assert response.status_code == 200
    assert "PDF・PNG・JPEG" in response.content.decode()
    assert not Certificate.objects.exists() and AuditEvent.objects.count() == events
    assert m.__class__.objects.get(pk=m.pk).state == MediumState.HANDED_OVER
    assert not any(p.is_file() for p in media_root.rglob("*"))


def test_a_good_upload_through_the_page_closes_the_media_and_downloads_as_attachment(world):
    m = stored("USB-1", world.gyokaku)
    batch = handed_over([m])
    client = Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    response = _upload(client, batch.pk, [m.pk], png_bytes(), "scan.png")
    assert response.status_code == 302
    certificate = Certificate.objects.get()
    assert m.__class__.objects.get(pk=m.pk).state == MediumState.CERTIFIED
    download = client.get(reverse("disposal:certificate-download", args=[certificate.pk]))
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == png_bytes()


def test_an_oversized_upload_through_the_page_is_refused_and_nothing_saved(world, settings, media_root):
    settings.MAMORI_CERTIFICATE_MAX_BYTES = 1024 * 1024
    m = stored("USB-1", world.gyokaku)
    batch = handed_over([m])
    client = Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    response = _upload(client, batch.pk, [m.pk], MINIMAL_PDF + b"0" * (1024 * 1024), "scan.pdf")
    assert (
        response.status_code == 200
        and "証明書ファイルが大きすぎます（上限 1 MB）" in response.content.decode()
    )
    assert not Certificate.objects.exists() and not any(p.is_file() for p in media_root.rglob("*"))
