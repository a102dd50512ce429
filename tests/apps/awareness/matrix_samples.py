"""URL kwargs for the awareness pages in the role × view matrix: a campaign sent to the world's staff
(the staff login linked to 佐藤 花子, inside the lead's 総務部), a scheduled one, and her link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamori.apps.awareness import services
from mamori.apps.awareness.tokens import ack_token
from mamori.apps.core.models import Role
from tests.apps.awareness.helpers import campaign_data

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    membership = world.users[Role.STAFF].membership
    membership.staff = world.staff_in_scope
    membership.save()
    sent = services.campaign_create(actor="test", data=campaign_data())
    services.campaign_send(actor="test", campaign=sent, mail=False)
    scheduled = services.campaign_create(actor="test", data=campaign_data())
    recipient = sent.recipients.get(staff=world.staff_in_scope)
    return {
        "awareness:detail": {"pk": sent.pk},
        "awareness:edit": {"pk": scheduled.pk},
        "awareness:send": {"pk": scheduled.pk},
        "awareness:remind": {"pk": sent.pk},
        "awareness:notice": {"pk": sent.pk},
        "awareness:acknowledge": {"pk": sent.pk},
        "awareness:ack": {"token": ack_token(recipient)},
    }
