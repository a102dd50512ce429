"""Quiz attempts: drawn and graded on the server; a hostile or replayed submission saves nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mamori.apps.core.models import AuditEvent
from mamori.apps.training import quiz
from mamori.apps.training.errors import TrainingError
from mamori.apps.training.models import Attempt, AttemptQuestion, Completion
from mamori.apps.training.quiz import TakenAttempt, attempts_record

from .helpers import answers, make_course, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner(world):  # type: ignore[no-untyped-def]
    return staff_member(world.gyokaku, number="500001")


def test_an_attempt_draws_n_of_the_pool_in_a_random_order_and_keeps_it_on_reload(course, learner):
    user, staff = learner
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    drawn = list(attempt.items.values_list("question_id", flat=True))
    assert len(drawn) == 4 and len(set(drawn)) == 4
    assert set(drawn) <= set(course.questions.values_list("pk", flat=True))
    assert quiz.attempt_start(actor=user, staff=staff, course=course) == attempt  # no redraw by reloading
    for item in attempt.items.all():
        assert sorted(item.choice_order) == sorted(item.question.choices.values_list("pk", flat=True))


def test_the_draws_differ_between_attempts(course, world):
    orders = set()
    for n in range(8):
        user, staff = staff_member(world.gyokaku, number=f"60000{n}")
        attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
        orders.add(tuple(attempt.items.values_list("question_id", flat=True)))
    assert len(orders) > 1  # 8 draws of 4 from 6 in order: all equal has probability 360**-7


def test_a_score_below_the_pass_mark_fails_and_at_it_passes_with_a_completion(course, learner):
    user, staff = learner
    first = quiz.attempt_start(actor=user, staff=staff, course=course)
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=first.pk, answers=answers(first, right=2))
    first.refresh_from_db()
    assert (first.score, first.passed) == (50, False) and not Completion.objects.exists()
    second = quiz.attempt_start(actor=user, staff=staff, course=course)
    assert second != first
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=second.pk, answers=answers(second, right=3))
    second.refresh_from_db()
    assert (second.score, second.passed) == (75, True)
    assert Completion.objects.get().attempt == second
    with pytest.raises(TrainingError) as caught:
        quiz.attempt_start(actor=user, staff=staff, course=course)
    assert caught.value.code == "already_passed"


def test_a_multiple_choice_answer_is_right_only_with_every_right_choice(learner):
    user, staff = learner
    course = make_course(draw=6)  # the whole pool, so the multiple-choice questions are drawn
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    given = answers(attempt, right=4)
    multiple = [i for i in attempt.items.select_related("question") if i.question.kind == "multiple"]
    given[multiple[0].question_id] = given[multiple[0].question_id][:1]
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=given)
    assert AttemptQuestion.objects.get(attempt=attempt, question_id=multiple[0].question_id).correct is False


def test_the_attempts_limit_holds(course, learner):
    user, staff = learner
    for _ in range(3):
        attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
        quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=0))
    with pytest.raises(TrainingError) as caught:
        quiz.attempt_start(actor=user, staff=staff, course=course)
    assert caught.value.code == "no_attempts_left" and Attempt.objects.count() == 3


def _refused(user, staff, attempt, given, code):  # type: ignore[no-untyped-def]
    events = AuditEvent.objects.count()
    with pytest.raises(TrainingError) as caught:
        quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=given)
    assert caught.value.code == code
    attempt.refresh_from_db()
    assert attempt.submitted_at is None and attempt.score is None
    assert not AttemptQuestion.objects.filter(attempt=attempt, correct__isnull=False).exists()
    assert AuditEvent.objects.count() == events


def test_an_answer_for_a_question_not_drawn_or_of_another_attempt_saves_nothing(course, learner, world):
    user, staff = learner
    mine = quiz.attempt_start(actor=user, staff=staff, course=course)
    other_user, other_staff = staff_member(world.johou, number="500002")
    theirs = quiz.attempt_start(actor=other_user, staff=other_staff, course=course)
    not_drawn = set(course.questions.values_list("pk", flat=True)) - set(
        mine.items.values_list("question_id", flat=True)
    )
    given = answers(mine, right=4) | {next(iter(not_drawn)): [1]}
    _refused(user, staff, mine, given, "not_drawn")
    # their attempt, my answers: refused as if it did not exist
    _refused(user, staff, theirs, answers(theirs, right=4), "not_found")


def test_a_choice_of_another_question_an_unanswered_one_or_two_radio_answers_save_nothing(course, learner):
    user, staff = learner
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    items = list(attempt.items.select_related("question").order_by("position"))
    good = answers(attempt, right=4)
    swapped = good | {items[0].question_id: good[items[1].question_id]}
    _refused(user, staff, attempt, swapped, "not_a_choice")
    _refused(user, staff, attempt, {k: v for k, v in good.items() if k != items[0].question_id}, "unanswered")
    single = next(i for i in items if i.question.kind == "single")
    _refused(user, staff, attempt, good | {single.question_id: single.choice_order[:2]}, "one_answer")


def test_a_replayed_submission_is_refused_and_the_first_result_stands(course, learner):
    user, staff = learner
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=0))
    with pytest.raises(TrainingError) as caught:
        quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=4))
    attempt.refresh_from_db()
    assert caught.value.code == "replayed" and attempt.score == 0 and not Completion.objects.exists()


def test_recorded_attempts_are_graded_here_and_a_foreign_question_saves_nothing(course, learner, world):
    _user, staff = learner
    pool = list(course.questions.prefetch_related("choices"))
    right = {q.pk: [c.pk for c in q.choices.all() if c.correct] for q in pool[:4]}
    when = timezone.now()
    other = make_course()
    foreign = other.questions.first()
    events = AuditEvent.objects.count()
    with pytest.raises(TrainingError):
        attempts_record(actor="test", course=course, taken=[
            TakenAttempt(staff, right, when),
            TakenAttempt(staff, {foreign.pk: [foreign.choices.first().pk]}, when),
        ])  # fmt: skip
    assert not Attempt.objects.exists() and AuditEvent.objects.count() == events
    wrong_choice = dict(right) | {pool[0].pk: right[pool[1].pk]}
    with pytest.raises(TrainingError):
        attempts_record(actor="test", course=course, taken=[TakenAttempt(staff, wrong_choice, when)])
    (recorded,) = attempts_record(actor="test", course=course, taken=[TakenAttempt(staff, right, when)])
    recorded.refresh_from_db()
    assert (recorded.score, recorded.passed) == (100, True) and recorded.completion.staff == staff
