"""`{% audit_history_link obj %}`: a 「履歴」 link from an object's page to its audit-log entries.

Shown only to the roles that may read the audit log; any app's templates can use it:
`{% load audit_tags %}` … `{% audit_history_link system %}`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..permissions import READERS, has_role

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_history_link(context: dict[str, Any], obj: models.Model) -> SafeString | str:
    request = context.get("request")
    if request is None or obj is None or obj.pk is None or not has_role(request.user, READERS):
        return ""
    query = urlencode({"object": f"{obj._meta.label_lower}:{obj.pk}"})
    return format_html('<a class="history" href="{}?{}">{}</a>', reverse("audit_list"), query, _("履歴"))
