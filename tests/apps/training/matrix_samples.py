"""URL kwargs for the training pages in the role × view matrix: the world's staff login is linked to
the staff member in the lead's department, who is assigned the course, has one submitted (passed)
attempt and one image to see; a classroom session and a department in the lead's scope."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.training import assignments, images, quiz, services, sessions
from mamori.apps.training.models import RuleKind

from .helpers import answers, make_course
from .test_courses import png

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    user = world.users[Role.STAFF]
    user.membership.staff = world.staff_in_scope
    user.membership.save(update_fields=["staff"])
    course = make_course()
    assignments.rule_create(
        actor="test", course=course, kind=RuleKind.ALL, due_on=timezone.localdate() + timedelta(days=30)
    )
    attempt = quiz.attempt_start(actor=user, staff=world.staff_in_scope, course=course)
    quiz.attempt_submit(
        actor=user, staff=world.staff_in_scope, attempt_id=attempt.pk, answers=answers(attempt, right=4)
    )
    image = services.image_add(
        actor="test", course=course, checked=images.image_check(io.BytesIO(png()), name="a.png")
    )
    session = sessions.session_create(
        actor="test",
        title="集合研修",
        starts_at=timezone.now() + timedelta(days=7),
        place="会議室",
        capacity=30,
    )
    # the staff login's own registration: its cancel page, and the officer's removal page
    registration = sessions.registration_add(actor="test", session=session, staff=world.staff_in_scope)
    pk = {"pk": course.pk}
    return {
        "training:course": pk,
        "training:attempt-start": pk,
        "training:course-detail": pk,
        "training:course-edit": pk,
        "training:question-create": pk,
        "training:image-upload": pk,
        "training:rule-create": pk,
        "training:question-toggle": {"pk": course.questions.first().pk},
        "training:attempt": {"pk": attempt.pk},
        "training:attempt-result": {"pk": attempt.pk},
        "training:certificate": {"pk": attempt.completion.pk},
        "training:image": {"pk": image.pk},
        "training:session-register": {"pk": session.pk},
        "training:session-cancel": {"pk": session.pk},
        "training:session-detail": {"pk": session.pk},
        "training:session-attendance": {"pk": session.pk},
        "training:session-registration-remove": {"pk": session.pk, "registration": registration.pk},
        "training:attendance-import": {"pk": session.pk},
        "training:report-department": {"pk": world.gyokaku.pk},
    }
