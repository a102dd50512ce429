"""URL kwargs for the passwords pages in the role × view matrix: a directory and a recorded audit run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from mamori.apps.passwords import services
from mamori.apps.passwords.models import DirectoryKind, Security

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    policy = services.policy_create(actor="test", name="全職員", mode="nist", min_length=12)
    directory = services.directory_create(
        actor="test", name="庁内LDAP", kind=DirectoryKind.OPENLDAP, host="127.0.0.1", port=1,
        security=Security.STARTTLS, bind_dn="cn=admin,dc=example", password="matrix-bind",
        base_dn="dc=example", user_filter="(objectClass=inetOrgPerson)",
    )  # fmt: skip
    raw = {"uid": [b"sato"], "employeeNumber": [world.staff_in_scope.employee_number.encode()]}
    run = services.audit_run_record(
        actor="test", directory=directory, entries=[("uid=sato,dc=example", raw)], now=timezone.now()
    )
    return {
        "passwords:policy-edit": {"pk": policy.pk},
        "passwords:directory-edit": {"pk": directory.pk},
        "passwords:directory-test": {"pk": directory.pk},
        "passwords:audit-run": {"pk": directory.pk},
        "passwords:run-detail": {"pk": run.pk},
        "passwords:range": {"prefix": "5BAA6"},
    }
