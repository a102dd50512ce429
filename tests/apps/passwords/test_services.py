"""Refused policy writes: one line naming the field, nothing saved, no audit event."""

from __future__ import annotations

import pytest

from mamori.apps.core.models import AuditEvent
from mamori.apps.passwords import services
from mamori.apps.passwords.errors import PasswordsError
from mamori.apps.passwords.models import PasswordPolicy, PolicyMode


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("全職員\x00", "nul_character", ["名称", "NUL"]),  # a CSV or LDAP import can carry NUL
        ("長" * 101, "invalid", ["名称: ", "100"]),
    ],
)
def test_a_bad_policy_name_is_refused_naming_the_field(db, name, code, words):
    with pytest.raises(PasswordsError) as info:
        services.policy_create(actor="test", name=name, mode=PolicyMode.NIST, min_length=12)
    assert info.value.code == code and all(word in str(info.value) for word in words), str(info.value)
    assert not PasswordPolicy.objects.exists() and not AuditEvent.objects.exists()
