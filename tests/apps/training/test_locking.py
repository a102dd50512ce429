"""Many staff take the same course at once: one person's submission locks only their own attempt.
(The load run found deadlocks: the submission locked the course and its version too, which every other
person's new attempt references.) Two reminder clicks at once mail each person once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from mamori.apps.training import assignments, quiz
from mamori.apps.training.models import Assignment, RuleKind
from tests.apps.locking import lock_timeout, paused_inside, postgres_only

from .helpers import answers, staff_member

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_a_submission_in_progress_does_not_block_another_persons_start_or_submit(world, course, monkeypatch):
    a_user, a = staff_member(world.gyokaku, number="500001")
    b_user, b = staff_member(world.gyokaku, number="500002")
    c_user, c = staff_member(world.gyokaku, number="500003")
    first = quiz.attempt_start(actor=a_user, staff=a, course=course)
    third = quiz.attempt_start(actor=c_user, staff=c, course=course)
    a_answers, c_answers = answers(first, right=4), answers(third, right=4)

    def submit_a() -> None:
        quiz.attempt_submit(actor=a_user, staff=a, attempt_id=first.pk, answers=a_answers)

    with paused_inside(monkeypatch, quiz, "_grade", submit_a):
        with lock_timeout():
            second = quiz.attempt_start(actor=b_user, staff=b, course=course)
        with lock_timeout():
            done = quiz.attempt_submit(actor=c_user, staff=c, attempt_id=third.pk, answers=c_answers)
    assert second.staff == b and done.passed
    first.refresh_from_db()
    assert first.passed  # the paused one finished too


def test_two_reminder_clicks_at_once_mail_each_person_once(world, course, monkeypatch, smtp_sink):
    """Two officers press 「全員に督促メールを送信」 on lists opened at the same moment: while the first
    is mailing, its rows are locked, so the second waits (here: times out) and then mails no one."""
    assignments.rule_create(
        actor="test", course=course, kind=RuleKind.ALL, due_on=timezone.localdate() + timedelta(days=1)
    )
    Assignment.objects.update(due_on=timezone.localdate() - timedelta(days=2))
    shown_at = timezone.now()
    results = []

    def remind(actor: str) -> assignments.Reminded:
        overdue = Assignment.objects.filter(completion__isnull=True)
        return assignments.overdue_remind(actor=actor, overdue=overdue, shown_at=shown_at)

    with paused_inside(monkeypatch, assignments, "_deliver", lambda: results.append(remind("officer"))):
        with pytest.raises(OperationalError), lock_timeout():
            remind("admin")
    second = remind("admin")
    assert [r.sent for r in results] == [2] and (second.sent, second.already) == (0, 2)
    assert len(smtp_sink.messages) == 2
