"""Judging a directory's accounts: policy per account, staff match, findings and the run's counts.

Pure over its inputs (entries, policies, staff), so a live search and a recorded one are judged the
same way; `services.audit_run` stores the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from mamori.apps.core.models import Staff, StaffStatus

from .accounts import Account, Raw, Rule, account_from_active_directory, account_from_openldap, judge
from .models import Directory, DirectoryKind, Finding, MatchField, PasswordPolicy, PolicyMode


def policy_for(account: Account, policies: list[PasswordPolicy]) -> PasswordPolicy | None:
    """The first policy (by priority) whose group is a suffix of the DN or one of the account's groups."""
    dn = account.dn.lower()
    for policy in policies:
        group = policy.group_dn.strip().lower()
        if not group or dn.endswith("," + group) or group in account.groups:
            return policy
    return None


class StaffIndex:
    """Staff by employee number or by mail (case-insensitive), loaded once per run."""

    def __init__(self, match_field: str) -> None:
        self.match_field = match_field
        self._by_key: dict[str, Staff] = {}
        for staff in Staff.objects.only(
            "pk", "employee_number", "email", "status", "family_name", "given_name"
        ):
            key = staff.employee_number if match_field == MatchField.EMPLOYEE_NUMBER else staff.email
            if key:
                self._by_key[key.strip().lower()] = staff

    def find(self, value: str) -> Staff | None:
        return self._by_key.get(value.strip().lower()) if value else None


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)

    def count(self, flag: str) -> int:
        return sum(1 for f in self.findings if getattr(f, flag))

    @property
    def enabled(self) -> int:
        return sum(1 for f in self.findings if not f.disabled)


def judge_entries(*, directory: Directory, entries: Iterable[tuple[str, Raw]], now: datetime) -> Outcome:
    policies = list(PasswordPolicy.objects.all())
    staff_index = StaffIndex(directory.match_field)
    parse = (
        account_from_active_directory
        if directory.kind == DirectoryKind.ACTIVE_DIRECTORY
        else account_from_openldap
    )
    outcome = Outcome()
    for dn, raw in entries:
        account = parse(dn, raw, match_attribute=directory.match_attribute, now=now)
        outcome.findings.append(_finding(account, policies, staff_index, now))
    return outcome


def _finding(
    account: Account, policies: list[PasswordPolicy], staff_index: StaffIndex, now: datetime
) -> Finding:
    policy = policy_for(account, policies)
    staff = staff_index.find(account.match_value)
    problems = list(account.problems)
    if policy is None:
        problems.append("no policy")
        rule = Rule(PolicyMode.NIST, None, 10**6)
    else:
        rule = Rule(policy.mode, policy.max_age_days, policy.stale_days)
    j = judge(account, rule, now)
    enabled = not account.disabled
    leaver = staff is not None and staff.status == StaffStatus.LEFT and enabled
    rotation_unenforced = rule.mode == PolicyMode.ROTATION and account.never_expires
    unknown_age = account.password_changed_at is None and not account.must_change
    compliant = enabled and not (
        j.overdue or j.stale or account.must_change or rotation_unenforced or leaver or staff is None
        or unknown_age or problems
    )  # fmt: skip
    return Finding(
        dn=account.dn,
        login=account.login,
        display_name=account.display_name,
        staff=staff,
        policy=policy,
        policy_name=policy.name if policy else "",
        password_changed_at=account.password_changed_at,
        password_age_days=j.password_age_days,
        due_on=j.due_on,
        last_logon_at=account.last_logon_at,
        overdue=j.overdue and enabled,
        due_soon=j.due_soon and enabled,
        must_change=account.must_change,
        never_expires=account.never_expires,
        disabled=account.disabled,
        locked=account.locked,
        stale=j.stale and enabled,
        unmatched=staff is None,
        leaver_enabled=leaver,
        compliant=compliant,
        problems="; ".join(problems)[:1000],
    )
