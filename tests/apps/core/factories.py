"""factory_boy factories for the core domain; other apps' tests may use them too."""

from __future__ import annotations

from datetime import date

import factory
from django.contrib.auth import get_user_model

from mamori.apps.core.models import Department, Membership, Organisation, PopulationRecord, Role, Staff
from mamori.apps.core.services import user_create

TEST_PASSWORD = "correct horse battery staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = "みなと台市"
    name_en = "Minatodai City"
    prefecture = "神奈川県"


class PopulationRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PopulationRecord

    organisation = factory.SubFactory(OrganisationFactory)
    # Not a sequence: a date that drifts with the number of tests run made date-based tests flaky.
    reference_date = date(2017, 3, 31)
    residents = 112_400
    households = 47_247
    source = "住民基本台帳"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"テスト{n}課")
    parent = None


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    employee_number = factory.Sequence(lambda n: f"{900000 + n}")
    family_name = "山田"
    given_name = factory.Sequence(lambda n: f"太郎{n}")
    family_name_kana = "やまだ"
    given_name_kana = "たろう"
    email = factory.Sequence(lambda n: f"t-yamada{n}@city.example.jp")
    department = factory.SubFactory(DepartmentFactory)
    position = "主事"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        """`UserFactory(role=Role.STAFF, role__department=dept, role__staff=staff)` adds the membership."""
        if create:
            self.save()
            if extracted:
                Membership.objects.create(
                    user=self, role=extracted, department=kwargs.get("department"), staff=kwargs.get("staff")
                )


def user_with_role(role: str, *, department: Department | None = None, username: str | None = None):  # type: ignore[no-untyped-def]
    """A login with `role`; department leads (and staff) are scoped to `department`."""
    params = {"role": role, "role__department": department}
    if username:
        params["username"] = username
    return UserFactory(**params)


def staff_login(*, staff: Staff | None = None, password: str | None = TEST_PASSWORD, **staff_fields: object):
    """A staff member's 職員 login, named by the 職員番号 as `staff_logins_create` makes it.

    With `password` (default TEST_PASSWORD) it is as if the mail's link had been used, so a test or a
    browser can sign in with it; `password=None` leaves it waiting for the first password. Extra
    keyword arguments go to `StaffFactory` (e.g. `department=...`).
    """
    staff = staff or StaffFactory(**staff_fields)
    return user_create(
        actor="test", username=staff.employee_number, password=password, role=Role.STAFF,
        email=staff.email, staff=staff, department=staff.department,
    )  # fmt: skip


__all__ = ["TEST_PASSWORD", "Role", "staff_login"]
