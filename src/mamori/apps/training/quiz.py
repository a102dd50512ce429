"""Quiz attempts: draw questions on the server, check the answers on the server, keep the evidence.

An attempt records the questions drawn and the order their choices were shown. A submission is
accepted once, only for its own attempt's drawn questions and their own choices; anything else (an
answer for another attempt or a question not drawn, a choice of another question, a replayed POST)
is refused with a clear message and nothing is saved.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record
from mamori.apps.core.models import Staff

from .errors import TrainingError
from .models import Assignment, Attempt, AttemptQuestion, Completion, Course, QuestionKind

NO_QUESTIONS = _("この研修には出題できる設問がありません。担当者に連絡してください")
NO_ATTEMPTS_LEFT = _("受験回数の上限（{n}回）に達しました。担当者に連絡してください")
ALREADY_PASSED = _("この版の研修は既に合格しています")
ALREADY_SUBMITTED = _("この回答は既に送信済みです（二重送信は受け付けません）。結果を確認してください")
NOT_DRAWN = _("この受験で出題されていない設問への回答が含まれています。画面を開き直してください")
NOT_A_CHOICE = _("設問 {n} の選択肢が正しくありません。画面を開き直してください")
UNANSWERED = _("未回答の設問があります: {numbers}")
ONE_ANSWER = _("設問 {n} は選択肢を1つだけ選んでください")
NOT_YOURS = _("この受験は見つかりません")

_random = random.SystemRandom()


def attempts_used(staff: Staff, course: Course) -> int:
    return Attempt.objects.filter(staff=staff, course=course, submitted_at__isnull=False).count()


def attempt_start(*, actor: Actor, staff: Staff, course: Course) -> Attempt:
    """The open attempt if there is one (so reloading cannot redraw easier questions), else a new draw."""
    with transaction.atomic():
        Staff.objects.select_for_update(no_key=True).filter(
            pk=staff.pk
        ).first()  # one start at a time per person
        open_attempt = Attempt.objects.filter(staff=staff, course=course, submitted_at__isnull=True).first()
        if open_attempt is not None:
            return open_attempt
        version = course.current_version
        assert version is not None
        if Completion.objects.filter(staff=staff, version=version).exists():
            raise TrainingError(ALREADY_PASSED, code="already_passed", http_status=409)
        if course.max_attempts and attempts_used(staff, course) >= course.max_attempts:
            raise TrainingError(
                NO_ATTEMPTS_LEFT.format(n=course.max_attempts), code="no_attempts_left", http_status=409
            )
        pool = list(course.questions.filter(active=True).prefetch_related("choices"))
        if not pool:
            raise TrainingError(NO_QUESTIONS, code="no_questions", http_status=409)
        drawn = _random.sample(pool, min(course.questions_per_attempt, len(pool)))
        attempt = Attempt.objects.create(
            staff=staff, course=course, version=version, started_at=timezone.now()
        )
        items = []
        for position, question in enumerate(drawn, start=1):
            order = [c.pk for c in question.choices.all()]
            _random.shuffle(order)
            items.append(
                AttemptQuestion(attempt=attempt, question=question, position=position, choice_order=order)
            )
        AttemptQuestion.objects.bulk_create(items)
        audit_record(
            actor=actor,
            action="training.attempt.start",
            obj=attempt,
            after={"course_id": course.pk, "version": version.number, "questions": [q.pk for q in drawn]},
        )
    return attempt


def _checked(attempt: Attempt, items: list[AttemptQuestion], answers: Mapping[int, list[int]]) -> None:
    drawn = {item.question_id: item for item in items}
    if set(answers) - set(drawn):
        raise TrainingError(NOT_DRAWN, code="not_drawn")
    missing = [str(item.position) for item in items if not answers.get(item.question_id)]
    if missing:
        raise TrainingError(UNANSWERED.format(numbers="、".join(missing)), code="unanswered")
    for question_id, chosen in answers.items():
        item = drawn[question_id]
        if not set(chosen) <= set(item.choice_order) or len(set(chosen)) != len(chosen):
            raise TrainingError(NOT_A_CHOICE.format(n=item.position), code="not_a_choice")
        if item.question.kind == QuestionKind.SINGLE and len(chosen) != 1:
            raise TrainingError(ONE_ANSWER.format(n=item.position), code="one_answer")


def _grade(items: list[AttemptQuestion], answers: Mapping[int, list[int]]) -> int:
    """Mark each item right or wrong (every right choice and no other); the number right."""
    right = 0
    for item in items:
        item.selected = sorted(answers[item.question_id])
        correct_ids = {c.pk for c in item.question.choices.all() if c.correct}
        item.correct = set(item.selected) == correct_ids
        right += item.correct
    return right


def _score(right: int, of: int, course: Course) -> tuple[int, bool]:
    score = round(100 * right / of)
    return score, score >= course.pass_mark


def _open_assignments(course: Course, at: datetime) -> QuerySet[Assignment]:
    """Assignments a pass at `at` completes: not yet done, and made before it."""
    return Assignment.objects.filter(course=course, completion__isnull=True, assigned_at__lte=at)


def attempt_submit(
    *, actor: Actor, staff: Staff, attempt_id: int, answers: Mapping[int, list[int]]
) -> Attempt:
    """Grade an attempt once. `answers` maps question id → the choice ids chosen."""
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("course", "version")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None or attempt.staff_id != staff.pk:
            raise TrainingError(NOT_YOURS, code="not_found", http_status=404)
        if attempt.submitted_at is not None:
            raise TrainingError(ALREADY_SUBMITTED, code="replayed", http_status=409)
        items = list(attempt.items.select_related("question").prefetch_related("question__choices"))
        _checked(attempt, items, answers)
        right = _grade(items, answers)
        AttemptQuestion.objects.bulk_update(items, ["selected", "correct"])
        now = timezone.now()
        attempt.submitted_at = now
        attempt.score, attempt.passed = _score(right, len(items), attempt.course)
        attempt.save(update_fields=["submitted_at", "score", "passed"])
        after = {"score": attempt.score, "passed": attempt.passed, "right": right, "of": len(items)}
        if attempt.passed:
            completion = Completion.objects.create(
                staff=staff,
                course=attempt.course,
                version=attempt.version,
                attempt=attempt,
                completed_at=now,
                score=attempt.score,
            )
            done = _open_assignments(attempt.course, now).filter(staff=staff).update(completion=completion)
            after |= {"completion_id": completion.pk, "assignments_done": done}
        audit_record(actor=actor, action="training.attempt.submit", obj=attempt, after=after)
    return attempt


@dataclass(frozen=True)
class TakenAttempt:
    """An attempt taken elsewhere: who, the questions drawn (in order) with the choices chosen, when."""

    staff: Staff
    answers: dict[int, list[int]]
    submitted_at: datetime


def attempts_record(*, actor: Actor, course: Course, taken: list[TakenAttempt]) -> list[Attempt]:
    """Record attempts taken elsewhere (the demo's history, an earlier e-learning system's results),
    graded here exactly as a submission is, in one transaction with one audit event.

    Each answer must name a question of the course's pool and that question's own choices.
    """
    version = course.current_version
    assert version is not None
    pool = {q.pk: q for q in course.questions.prefetch_related("choices")}
    with transaction.atomic():
        attempts, all_items = [], []
        for entry in taken:
            if not entry.answers or set(entry.answers) - set(pool):
                raise TrainingError(NOT_DRAWN, code="not_drawn")
            attempt = Attempt(staff=entry.staff, course=course, version=version, started_at=entry.submitted_at,
                              submitted_at=entry.submitted_at)  # fmt: skip
            items = []
            for position, question_id in enumerate(entry.answers, start=1):
                question = pool[question_id]
                item = AttemptQuestion(attempt=attempt, question=question, position=position,
                                       choice_order=[c.pk for c in question.choices.all()])  # fmt: skip
                items.append(item)
            _checked(attempt, items, entry.answers)
            attempt.score, attempt.passed = _score(_grade(items, entry.answers), len(items), course)
            attempts.append(attempt)
            all_items.append(items)
        Attempt.objects.bulk_create(attempts)
        for attempt, items in zip(attempts, all_items, strict=True):
            for item in items:
                item.attempt = attempt
        AttemptQuestion.objects.bulk_create([i for items in all_items for i in items], batch_size=1000)
        passed = {}
        for attempt in attempts:
            if attempt.passed and attempt.staff_id not in passed:
                passed[attempt.staff_id] = attempt
        completions = Completion.objects.bulk_create(
            [
                Completion(
                    staff_id=a.staff_id,
                    course=course,
                    version=version,
                    attempt=a,
                    completed_at=a.submitted_at,
                    score=a.score,
                )
                for a in passed.values()
            ]
        )
        by_staff = {c.staff_id: c for c in completions}
        done = []
        for assignment in _open_assignments(
            course, max((t.submitted_at for t in taken), default=timezone.now())
        ):
            completion = by_staff.get(assignment.staff_id)
            if completion is not None and assignment.assigned_at <= completion.completed_at:
                assignment.completion = completion
                done.append(assignment)
        Assignment.objects.bulk_update(done, ["completion"], batch_size=1000)
        audit_record(
            actor=actor,
            action="training.attempt.record",
            obj=course,
            after={"attempts": len(attempts), "passed": len(completions), "assignments_done": len(done)},
        )
    return attempts
