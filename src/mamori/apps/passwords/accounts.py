"""What a directory entry says about its account, read from raw attribute bytes (no server schema).

OpenLDAP: `pwdChangedTime`, `pwdAccountLockedTime` and `pwdReset` (ppolicy overlay), `shadowLastChange`,
`shadowMax` and `shadowExpire` (days since 1970), `authTimestamp` / `pwdLastSuccess` (last bind).
Active Directory: `pwdLastSet` (FILETIME; 0 = must change at next logon), `userAccountControl` flags,
`lastLogonTimestamp` (replicated, up to ~14 days late), `accountExpires` (0 or 2^63-1 = never),
`lockoutTime`. A value that does not parse becomes a problem on the account, never an exception:
the directory is outside mamori's control and may hold anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF
UNIX_EPOCH = date(1970, 1, 1)
# ppolicy: this pwdAccountLockedTime means "locked until an administrator unlocks it" (disabled)
PERMANENT_LOCK = "000001010000Z"
SHADOW_NEVER = 99999

UAC_ACCOUNTDISABLE = 0x0002
UAC_LOCKOUT = 0x0010
UAC_DONT_EXPIRE_PASSWORD = 0x10000

_GENERALIZED = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,]\d+)?(Z|[+-]\d{4})$")
MAX_TEXT = 256

Raw = dict[str, list[bytes]]


@dataclass
class Account:
    dn: str
    login: str = ""
    display_name: str = ""
    match_value: str = ""
    groups: list[str] = field(default_factory=list)
    password_changed_at: datetime | None = None
    must_change: bool = False
    never_expires: bool = False
    disabled: bool = False
    locked: bool = False
    last_logon_at: datetime | None = None
    created_at: datetime | None = None
    problems: list[str] = field(default_factory=list)


def _values(raw: Raw, name: str) -> list[str]:
    for key, values in raw.items():
        if key.lower() == name.lower():
            return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
    return []


def _first(raw: Raw, name: str) -> str | None:
    values = _values(raw, name)
    return values[0].strip() if values else None


def clean_text(value: str) -> str:
    """Display text from the directory: control characters removed, length bounded."""
    return "".join(ch for ch in value if ch.isprintable())[:MAX_TEXT]


def parse_generalized_time(value: str) -> datetime:
    """LDAP GeneralizedTime ("20260818114811Z", with optional fraction or +hhmm offset) → aware UTC."""
    m = _GENERALIZED.match(value)
    if not m:
        raise ValueError(value)
    year, month, day, hour, minute, second, zone = m.groups()
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0), tzinfo=UTC)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        dt -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return dt


def parse_filetime(value: str) -> datetime | None:
    """Windows FILETIME (100 ns ticks since 1601-01-01 UTC) → aware UTC; None for 0 and "never"."""
    ticks = int(value)
    if ticks < 0:
        raise ValueError(value)
    if ticks in (0, FILETIME_NEVER):
        return None
    try:
        return FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError as exc:  # past year 9999: nothing a real account carries
        raise ValueError(value) from exc


def _days_since_epoch(value: str) -> date:
    return UNIX_EPOCH + timedelta(days=int(value))


class _Reader:
    """Parses one attribute at a time; a malformed one is noted on the account and skipped."""

    def __init__(self, raw: Raw, account: Account) -> None:
        self.raw = raw
        self.account = account

    def get(self, name: str, parse):  # type: ignore[no-untyped-def]
        value = _first(self.raw, name)
        if value is None or value == "":
            return None
        try:
            return parse(value)
        except (ValueError, OverflowError):
            self.account.problems.append(f"{name}: {clean_text(value)[:40]!r}")
            return None


def account_from_openldap(dn: str, raw: Raw, *, match_attribute: str, now: datetime) -> Account:
    account = _base(dn, raw, match_attribute=match_attribute, login_attribute="uid")
    r = _Reader(raw, account)
    account.password_changed_at = r.get("pwdChangedTime", parse_generalized_time)
    if account.password_changed_at is None:
        last_change = r.get("shadowLastChange", _days_since_epoch)
        if last_change is not None:
            account.password_changed_at = datetime(
                last_change.year, last_change.month, last_change.day, tzinfo=UTC
            )
    account.must_change = (_first(raw, "pwdReset") or "").upper() == "TRUE"
    shadow_max = r.get("shadowMax", int)
    account.never_expires = shadow_max is not None and (shadow_max < 0 or shadow_max >= SHADOW_NEVER)
    locked = _first(raw, "pwdAccountLockedTime")
    if locked == PERMANENT_LOCK:
        account.disabled = True
    elif locked:
        account.locked = r.get("pwdAccountLockedTime", parse_generalized_time) is not None
    shadow_expire = r.get("shadowExpire", _days_since_epoch)
    if shadow_expire is not None and shadow_expire <= now.astimezone(UTC).date():  # shadow counts UTC days
        account.disabled = True
    account.last_logon_at = r.get("authTimestamp", parse_generalized_time) or r.get(
        "pwdLastSuccess", parse_generalized_time
    )
    account.created_at = r.get("createTimestamp", parse_generalized_time)
    return account


def account_from_active_directory(dn: str, raw: Raw, *, match_attribute: str, now: datetime) -> Account:
    account = _base(dn, raw, match_attribute=match_attribute, login_attribute="sAMAccountName")
    r = _Reader(raw, account)
    pwd_last_set = _first(raw, "pwdLastSet")
    if pwd_last_set is not None and pwd_last_set.strip() == "0":
        account.must_change = True
    else:
        account.password_changed_at = r.get("pwdLastSet", parse_filetime)
    uac = r.get("userAccountControl", int)
    if uac is not None:
        account.disabled = bool(uac & UAC_ACCOUNTDISABLE)
        account.never_expires = bool(uac & UAC_DONT_EXPIRE_PASSWORD)
        account.locked = bool(uac & UAC_LOCKOUT)
    lockout = r.get("lockoutTime", int)
    if lockout:
        account.locked = True
    expires = r.get("accountExpires", parse_filetime)
    if expires is not None and expires <= now:
        account.disabled = True
    account.last_logon_at = r.get("lastLogonTimestamp", parse_filetime)
    account.created_at = r.get("whenCreated", parse_generalized_time)
    return account


def _base(dn: str, raw: Raw, *, match_attribute: str, login_attribute: str) -> Account:
    return Account(
        dn=clean_text(dn) if len(dn) <= 1000 else clean_text(dn[:1000]),
        login=clean_text(_first(raw, login_attribute) or _first(raw, "uid") or ""),
        display_name=clean_text(_first(raw, "displayName") or _first(raw, "cn") or ""),
        match_value=clean_text(_first(raw, match_attribute) or ""),
        groups=[g.strip().lower() for g in _values(raw, "memberOf")],
    )


@dataclass(frozen=True)
class Rule:
    """The parts of a policy the judgement needs (a plain value, so this module needs no database)."""

    mode: str  # "nist" or "rotation"
    max_age_days: int | None
    stale_days: int


@dataclass(frozen=True)
class Judgement:
    password_age_days: int | None
    due_on: date | None
    overdue: bool
    due_soon: bool
    stale: bool


DUE_SOON_DAYS = 14


def judge(account: Account, rule: Rule, now: datetime) -> Judgement:
    """Age, due date and staleness of one account under its policy, as of `now`. The due date is a day
    of the city's calendar (TIME_ZONE): a change at 08:00 in Japan is the previous day in UTC."""
    changed = account.password_changed_at
    age = (now - changed).days if changed else None
    due_on = None
    overdue = due_soon = False
    if rule.mode == "rotation" and rule.max_age_days:
        if changed is not None:
            today = timezone.localdate(now)
            due_on = timezone.localdate(changed + timedelta(days=rule.max_age_days))
            overdue = today > due_on
            due_soon = not overdue and (due_on - today).days <= DUE_SOON_DAYS
        else:
            overdue = account.must_change
    # never signed in: judged from the account's creation; no logon data at all (OpenLDAP without the
    # lastbind overlay) is not evidence of staleness
    last_seen = account.last_logon_at or account.created_at
    stale = last_seen is not None and (now - last_seen).days > rule.stale_days
    return Judgement(age, due_on, overdue, due_soon, stale)
