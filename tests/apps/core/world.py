"""A small city for tests: two 部 with their 課, staff in each, one login per role.

Other apps' tests may build on it (`build_world()`), e.g. in their role-matrix samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamori.apps.core.models import Department, Organisation, Role, Staff

from .factories import (
    DepartmentFactory,
    OrganisationFactory,
    PopulationRecordFactory,
    StaffFactory,
    user_with_role,
)


@dataclass
class World:
    organisation: Organisation
    soumu: Department  # 総務部
    gyokaku: Department  # 総務部 行政改革課
    johou: Department  # 総務部 情報政策課
    fukushi: Department  # 福祉部
    kosodate: Department  # 福祉部 子育て支援課
    staff_in_scope: Staff  # in the lead's 部
    staff_outside: Staff  # elsewhere
    users: dict[str, Any]


def build_world() -> World:
    org = OrganisationFactory()
    PopulationRecordFactory(organisation=org)
    soumu = DepartmentFactory(organisation=org, code="1000", name="総務部")
    gyokaku = DepartmentFactory(organisation=org, code="1002", name="行政改革課", parent=soumu)
    johou = DepartmentFactory(organisation=org, code="1004", name="情報政策課", parent=soumu)
    fukushi = DepartmentFactory(organisation=org, code="4000", name="福祉部")
    kosodate = DepartmentFactory(organisation=org, code="4004", name="子育て支援課", parent=fukushi)
    inside = StaffFactory(department=gyokaku, family_name="佐藤", given_name="花子", employee_number="100001")
    outside = StaffFactory(
        department=kosodate, family_name="鈴木", given_name="一郎", employee_number="400001"
    )
    users = {
        Role.ADMINISTRATOR: user_with_role(Role.ADMINISTRATOR, username="admin"),
        Role.SECURITY_OFFICER: user_with_role(Role.SECURITY_OFFICER, username="officer"),
        Role.DEPARTMENT_LEAD: user_with_role(Role.DEPARTMENT_LEAD, department=soumu, username="lead"),
        Role.STAFF: user_with_role(Role.STAFF, department=gyokaku, username="staff"),
        Role.AUDITOR: user_with_role(Role.AUDITOR, username="auditor"),
    }
    return World(org, soumu, gyokaku, johou, fukushi, kosodate, inside, outside, users)
