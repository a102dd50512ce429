"""Courses: versioned text (a completion keeps the version passed), a question pool that checks its
answers, and images that must really be images."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mamori.apps.core.models import AuditEvent
from mamori.apps.training import images, quiz, services
from mamori.apps.training.errors import TrainingError
from mamori.apps.training.models import CourseImage, CourseVersion, Question, QuestionKind

from .helpers import BODY, answers, staff_member

pytestmark = pytest.mark.django_db


def revise(course, **changes):  # type: ignore[no-untyped-def]
    fields = {"title": course.title, "body": course.current_version.body, "pass_mark": course.pass_mark,
              "questions_per_attempt": course.questions_per_attempt, "max_attempts": course.max_attempts}  # fmt: skip
    return services.course_revise(actor="test", course=course, **(fields | changes))


def test_a_changed_text_is_a_new_version_and_the_completion_keeps_the_one_passed(course, world):
    user, staff = staff_member(world.gyokaku, number="500001")
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=4))
    version2 = revise(course, body=BODY + "\n## 追加\n\n年末年始の注意。\n")
    assert version2.number == 2 and course.current_version == version2
    completion = staff.training_completions.get()
    assert completion.version.number == 1 and "年末年始" not in completion.version.body
    assert CourseVersion.objects.get(course=course, number=1).body == BODY


def test_changing_only_the_pass_mark_makes_no_new_version(course):
    assert revise(course, pass_mark=90).number == 1
    assert AuditEvent.objects.filter(action="training.course.revise").count() == 1


@pytest.mark.parametrize(
    ("kind", "choices", "code"),
    [
        (QuestionKind.SINGLE, [("a", True), ("b", True)], "one_correct"),
        (QuestionKind.MULTIPLE, [("a", False), ("b", False)], "no_correct"),
        (QuestionKind.SINGLE, [("a", True), ("   ", False)], "too_few_choices"),
    ],
)
def test_a_question_that_cannot_be_answered_right_is_refused(course, kind, choices, code):
    before = Question.objects.count()
    with pytest.raises(TrainingError) as caught:
        services.question_create(actor="test", course=course, text="?", kind=kind, choices=choices)
    assert caught.value.code == code and Question.objects.count() == before


def png(size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


def test_a_real_image_is_kept_with_the_type_found_in_its_content(course):
    checked = images.image_check(io.BytesIO(png()), name="../../etc/図.svg")
    image = services.image_add(actor="test", course=course, checked=checked)
    assert image.content_type == "image/png" and image.original_name == "図.svg"


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        b"<html><script>alert(1)</script></html>",
        png()[:40],  # a PNG cut short
        b"",
    ],
)
def test_an_svg_a_page_or_a_broken_image_is_refused(content):
    with pytest.raises(TrainingError) as caught:
        images.image_check(io.BytesIO(content), name="picture.png")
    assert caught.value.code == "not_an_image"


def test_an_oversized_image_is_refused_before_it_is_decoded(settings):
    settings.MAMORI_TRAINING_IMAGE_MAX_BYTES = 100
    with pytest.raises(TrainingError) as caught:
        images.image_check(io.BytesIO(png((200, 200)) + b"\0" * 200), name="big.png")
    assert caught.value.code == "image_too_large" and CourseImage.objects.count() == 0
