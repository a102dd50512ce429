"""Builders for the training tests: a course with a pool of single / multiple choice questions, a
staff member with a login, and answering a drawn attempt right or wrong."""

from __future__ import annotations

from typing import Any

from mamori.apps.core.models import Department, Staff
from mamori.apps.training import services
from mamori.apps.training.models import Attempt, Course, QuestionKind
from tests.apps.core.factories import staff_login

BODY = "## はじめに\n\n情報セキュリティの基本です。\n\n## パスワード\n\n長く、使い回さないこと。\n\n## 報告\n\n迷ったらすぐ報告。\n"


def make_course(*, pool: int = 6, draw: int = 4, pass_mark: int = 75, max_attempts: int = 3) -> Course:
    course = services.course_create(
        actor="test", title="情報セキュリティの基本", body=BODY, pass_mark=pass_mark,
        questions_per_attempt=draw, max_attempts=max_attempts,
    )  # fmt: skip
    for n in range(1, pool + 1):
        if n % 3 == 0:
            choices = [(f"正{n}a", True), (f"誤{n}", False), (f"正{n}b", True)]
            kind = QuestionKind.MULTIPLE
        else:
            choices = [(f"誤{n}", False), (f"正{n}", True), (f"誤{n}x", False)]
            kind = QuestionKind.SINGLE
        services.question_create(
            actor="test", course=course, text=f"設問{n}", kind=kind, choices=choices, explanation=f"解説{n}"
        )
    return course


def staff_member(department: Department, *, number: str) -> tuple[Any, Staff]:
    """A staff member in `department` and their 職員 login (core's `staff_login`, password set)."""
    user = staff_login(department=department, employee_number=number)
    return user, user.membership.staff


def answers(attempt: Attempt, *, right: int) -> dict[int, list[int]]:
    """Answers for the attempt's drawn questions: the first `right` correct, the rest wrong."""
    result = {}
    for index, item in enumerate(attempt.items.select_related("question").order_by("position")):
        choices = list(item.question.choices.all())
        correct = [c.pk for c in choices if c.correct]
        wrong = [c.pk for c in choices if not c.correct][:1]
        result[item.question_id] = correct if index < right else wrong
    return result


def form_data(answer_map: dict[int, list[int]]) -> dict[str, list[str]]:
    return {f"q{q}": [str(c) for c in chosen] for q, chosen in answer_map.items()}
