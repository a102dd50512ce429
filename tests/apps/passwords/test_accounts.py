"""Account semantics from raw attribute values — recorded Active Directory values (no AD server exists
here) and hostile values a directory might return."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mamori.apps.passwords.accounts import (
    Rule,
    account_from_active_directory,
    account_from_openldap,
    judge,
    parse_filetime,
    parse_generalized_time,
)

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def ad(**attrs: str):
    raw = {k: [v.encode()] for k, v in attrs.items()}
    return account_from_active_directory(
        "CN=x,OU=Staff,DC=city,DC=local", raw, match_attribute="employeeID", now=NOW
    )


def test_filetime_edge_cases():
    assert (
        parse_filetime("0") is None
    )  # "must change at next logon" for pwdLastSet, "never" for accountExpires
    assert parse_filetime("9223372036854775807") is None  # never
    assert parse_filetime("1") == datetime(1601, 1, 1, tzinfo=UTC)
    assert parse_filetime("133774848000000000") == datetime(2024, 12, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_filetime("9223372036854775806")  # far future: past year 9999
    with pytest.raises(ValueError):
        parse_filetime("-5")


def test_recorded_active_directory_user():
    # values as an AD domain controller returns them (ldapsearch of a real account, anonymised)
    account = ad(
        sAMAccountName="t-sato", employeeID="230045", pwdLastSet="133774848000000000",
        userAccountControl="66048", lastLogonTimestamp="134091360000000000", accountExpires="9223372036854775807",
        lockoutTime="0",
    )  # fmt: skip
    assert account.login == "t-sato" and account.match_value == "230045"
    assert account.password_changed_at == datetime(2024, 12, 1, tzinfo=UTC)
    assert account.never_expires and not account.disabled and not account.locked
    assert account.last_logon_at is not None and account.last_logon_at.year == 2025


@pytest.mark.parametrize(
    ("uac", "disabled", "never", "locked"),
    [
        ("512", False, False, False),
        ("514", True, False, False),
        ("66050", True, True, False),
        ("528", False, False, True),
    ],
)
def test_user_account_control_flags(uac, disabled, never, locked):
    account = ad(userAccountControl=uac, pwdLastSet="133774848000000000")
    assert (account.disabled, account.never_expires, account.locked) == (disabled, never, locked)


def test_account_expired_in_the_past_counts_as_disabled():
    assert ad(accountExpires="133774848000000000", userAccountControl="512").disabled
    assert not ad(accountExpires="0", userAccountControl="512").disabled


def test_generalized_time_forms():
    assert parse_generalized_time("20260818114811Z") == datetime(2026, 8, 18, 11, 48, 11, tzinfo=UTC)
    assert parse_generalized_time("20260818114811.5Z") == datetime(2026, 8, 18, 11, 48, 11, tzinfo=UTC)
    assert parse_generalized_time("20260818204811+0900") == datetime(2026, 8, 18, 11, 48, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "attrs",
    [
        {"pwdChangedTime": "yesterday"},
        {"pwdChangedTime": "99999999999999Z"},
        {"shadowLastChange": "-99999999999"},
        {"shadowLastChange": "1e9"},
        {"shadowMax": "lots"},
        {"authTimestamp": "\x00\x01\x02"},
        {"pwdChangedTime": "2026" + "1" * 5000 + "Z"},
    ],
)
def test_hostile_values_become_problems_not_crashes(attrs):
    raw = {"uid": [b"x"], **{k: [v.encode()] for k, v in attrs.items()}}
    account = account_from_openldap("uid=x,dc=example", raw, match_attribute="employeeNumber", now=NOW)
    assert account.problems and all(len(p) < 80 for p in account.problems)


def test_hostile_text_is_cleaned_and_bounded():
    raw = {
        "uid": ["a\x1b[31m\u202eb".encode()],
        "cn": [("x" * 10_000).encode()],
        "displayName": [b"\xff\xfe"],
    }
    account = account_from_openldap("uid=x,dc=example", raw, match_attribute="employeeNumber", now=NOW)
    assert account.login == "a[31mb" and len(account.display_name) <= 256


def test_nist_never_overdue_rotation_overdue_after_its_interval():
    account = account_from_openldap(
        "uid=x,dc=e", {"pwdChangedTime": [b"20260101000000Z"]}, match_attribute="e", now=NOW
    )
    assert not judge(account, Rule("nist", None, 90), NOW).overdue
    rotated = judge(account, Rule("rotation", 90, 90), NOW)
    assert rotated.overdue and rotated.due_on.isoformat() == "2026-04-01" and rotated.password_age_days == 337


def test_the_due_date_is_a_day_of_the_city_calendar_not_of_utc():
    # changed at 01:00 on 1 April in Japan, which is still 31 March in UTC: due 90 days later, 30 June
    account = account_from_openldap(
        "uid=x,dc=e", {"pwdChangedTime": [b"20260331160000Z"]}, match_attribute="e", now=NOW
    )
    noon_on_the_due_day = datetime(2026, 6, 30, 3, 0, tzinfo=UTC)  # 12:00 in Japan
    rotated = judge(account, Rule("rotation", 90, 90), noon_on_the_due_day)
    assert rotated.due_on.isoformat() == "2026-06-30" and not rotated.overdue and rotated.due_soon
    assert judge(account, Rule("rotation", 90, 90), datetime(2026, 6, 30, 15, 0, tzinfo=UTC)).overdue


def test_shadow_expire_counts_utc_days_whatever_the_zone_of_now():
    raw = {"shadowExpire": [str((date(2026, 6, 30) - date(1970, 1, 1)).days).encode()]}
    japan_morning = datetime(2026, 6, 30, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # still 29 June in UTC
    assert not account_from_openldap("uid=x,dc=e", raw, match_attribute="e", now=japan_morning).disabled
    utc_day = datetime(2026, 6, 30, 0, 0, tzinfo=UTC)
    assert account_from_openldap("uid=x,dc=e", raw, match_attribute="e", now=utc_day).disabled
