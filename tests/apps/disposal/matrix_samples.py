"""URL kwargs for the disposal pages in the role × view matrix: a medium in the lead's scope that is
still registered (so it can be stored), and a batch with a stored certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from mamori.apps.disposal import services

from .helpers import checked_pdf, handed_over, medium, stored

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    registered = medium("MX-REG", world.gyokaku)
    batch = handed_over([stored("MX-1", world.gyokaku), stored("MX-2", world.johou)])
    certificate = services.certificate_register(
        actor="test", batch=batch, checked=checked_pdf(), number="C-1",
        issued_on=timezone.localdate(), media=list(batch.media.filter(label="MX-1")),
    )  # fmt: skip
    return {
        "disposal:medium-detail": {"pk": registered.pk},
        "disposal:medium-store": {"pk": registered.pk},
        "disposal:batch-detail": {"pk": batch.pk},
        "disposal:certificate-upload": {"pk": batch.pk},
        "disposal:certificate-download": {"pk": certificate.pk},
        "disposal:evidence-file": {"fmt": "xlsx"},
    }
