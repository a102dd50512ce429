"""Course writes: each one transaction and one audit event.

A course's text is never edited in place: `course_revise` adds the next version when the title or
text changed, so a completion keeps pointing at the version that was passed.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, actor_name, audit_record, snapshot_of
from mamori.apps.core.chronology import check_past
from mamori.apps.core.models import Staff
from mamori.apps.core.services import validated

from .errors import TrainingError
from .images import CheckedImage
from .models import Choice, Course, CourseImage, CourseVersion, Progress, Question, QuestionKind

NO_CORRECT = _("正解の選択肢を1つ以上指定してください")
ONE_CORRECT = _("単一選択の設問は正解を1つだけにしてください")
TOO_FEW_CHOICES = _("選択肢は2つ以上入力してください")
EMPTY_BODY = _("本文を入力してください")

SETTINGS = ["title", "pass_mark", "questions_per_attempt", "max_attempts"]


def _settings_check(pass_mark: int, questions_per_attempt: int) -> None:
    if not 1 <= pass_mark <= 100:
        raise TrainingError(_("合格点は1〜100%で指定してください"), code="bad_pass_mark")
    if questions_per_attempt < 1:
        raise TrainingError(_("1回の出題数は1問以上にしてください"), code="bad_draw")


def course_create(
    *,
    actor: Actor,
    title: str,
    body: str,
    pass_mark: int = 80,
    questions_per_attempt: int = 5,
    max_attempts: int = 3,
    created_at: datetime | None = None,
) -> Course:
    """A new course at version 1. `created_at` (default now): for a course recorded afterwards, with
    the attempts an earlier system holds (`quiz.attempts_record`)."""
    if not body.strip():
        raise TrainingError(EMPTY_BODY, code="empty_body")
    _settings_check(pass_mark, questions_per_attempt)
    now = created_at or timezone.now()
    check_past(now, field=_("作成日時"), error=TrainingError)
    course = Course(
        title=title,
        pass_mark=pass_mark,
        questions_per_attempt=questions_per_attempt,
        max_attempts=max_attempts,
        created_at=now,
    )
    validated(course)
    with transaction.atomic():
        course.save()
        version = CourseVersion.objects.create(
            course=course, number=1, title=title, body=body, created_at=now, created_by=actor_name(actor)
        )
        audit_record(
            actor=actor,
            action="training.course.create",
            obj=course,
            after=snapshot_of(course, SETTINGS) | {"version": version.number},
        )
    return course


def course_revise(
    *,
    actor: Actor,
    course: Course,
    title: str,
    body: str,
    pass_mark: int,
    questions_per_attempt: int,
    max_attempts: int,
) -> CourseVersion:
    """Change a course; a changed title or text becomes the next version, the old one stays as it was."""
    if not body.strip():
        raise TrainingError(EMPTY_BODY, code="empty_body")
    _settings_check(pass_mark, questions_per_attempt)
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        before = snapshot_of(course, SETTINGS)
        current = course.current_version
        assert current is not None
        course.title, course.pass_mark = title, pass_mark
        course.questions_per_attempt, course.max_attempts = questions_per_attempt, max_attempts
        validated(course)
        course.save(update_fields=SETTINGS)
        version = current
        if (title, body) != (current.title, current.body):
            version = CourseVersion.objects.create(
                course=course,
                number=current.number + 1,
                title=title,
                body=body,
                created_at=timezone.now(),
                created_by=actor_name(actor),
            )
        audit_record(
            actor=actor,
            action="training.course.revise",
            obj=course,
            before=before | {"version": current.number},
            after=snapshot_of(course, SETTINGS) | {"version": version.number},
        )
    return version


def question_create(
    *,
    actor: Actor,
    course: Course,
    text: str,
    kind: str,
    choices: list[tuple[str, bool]],
    explanation: str = "",
) -> Question:
    """Add a question to the course's pool; `choices` are (text, correct) in the order written."""
    choices = [(t.strip(), c) for t, c in choices if t.strip()]
    if len(choices) < 2:
        raise TrainingError(TOO_FEW_CHOICES, code="too_few_choices")
    correct = sum(1 for _t, c in choices if c)
    if not correct:
        raise TrainingError(NO_CORRECT, code="no_correct")
    if kind == QuestionKind.SINGLE and correct != 1:
        raise TrainingError(ONE_CORRECT, code="one_correct")
    question = Question(course=course, kind=kind, text=text, explanation=explanation)
    validated(question)
    with transaction.atomic():
        question.save()
        Choice.objects.bulk_create([Choice(question=question, text=t, correct=c) for t, c in choices])
        audit_record(
            actor=actor,
            action="training.question.create",
            obj=question,
            after=snapshot_of(question, ["course_id", "kind", "text", "explanation"])
            | {"choices": [{"text": t, "correct": c} for t, c in choices]},
        )
    return question


def question_set_active(*, actor: Actor, question: Question, active: bool) -> Question:
    """Take a question out of (or back into) the pool; past attempts keep it."""
    with transaction.atomic():
        before = question.active
        question.active = active
        question.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="training.question.set_active",
            obj=question,
            before={"active": before},
            after={"active": active},
        )
    return question


def image_add(*, actor: Actor, course: Course, checked: CheckedImage) -> CourseImage:
    image = CourseImage(
        course=course,
        content=checked.content,
        content_type=checked.content_type,
        original_name=checked.name,
        sha256=checked.sha256,
        uploaded_at=timezone.now(),
    )
    with transaction.atomic():
        image.save()
        audit_record(
            actor=actor,
            action="training.image.add",
            obj=image,
            after={
                "course_id": course.pk,
                "name": checked.name,
                "content_type": checked.content_type,
                "size": len(checked.content),
                "sha256": checked.sha256,
            },
        )
    return image


def progress_save(*, staff: Staff, course: Course, section: int) -> None:
    """Remember the section a person reached, so they resume there.

    A reading bookmark, not a record: nothing depends on it, so it carries no audit event (one per
    page turn would bury the log's real changes).
    """
    Progress.objects.update_or_create(staff=staff, course=course, defaults={"section": section})
