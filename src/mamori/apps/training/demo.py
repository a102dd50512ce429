"""Demo training for みなと台市: 「情報セキュリティの基本」 assigned to all staff, with a spread of
completion and scores by department (some failed first, some still to do, a few overdue from the
April transfer rule), and one classroom session with attendance. Idempotent, through the services.

The course and its rules go out on the first morning of the fiscal year; each person's attempts
fall on office days (9:00–17:00) between then and now, retries the same day — dated as a real year
would be, not all at the moment of setup. Who passed comes from SEED and the dates from a stream
of their own, so the figures stay those of every earlier demo.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import IO

from django.contrib.auth import get_user_model
from django.utils import timezone

from mamori.apps.core.models import Department, Organisation, Staff, StaffStatus

from . import assignments, quiz, services, sessions
from .demo_course import BODY, QUESTIONS, TITLE
from .models import Course, Question, QuestionKind, RuleKind
from .quiz import TakenAttempt

SEED = 2026
DATES_SEED = SEED + 1
OFFICE_HOURS = (time(9), 8 * 60)  # opening time, minutes open
KEEP_OPEN = {"staff", "lead"}  # the demo logins keep the course to take themselves


def _answers(rng: random.Random, pool: list[Question], draw: int, skill: float) -> dict[int, list[int]]:
    """One attempt's answers: `draw` questions of the pool, each answered right with probability `skill`."""
    result = {}
    for question in rng.sample(pool, draw):
        choices = list(question.choices.all())
        right = [c.pk for c in choices if c.correct]
        wrong = [c.pk for c in choices if not c.correct]
        result[question.pk] = right if rng.random() < skill else [rng.choice(wrong)]
    return result


def year_start(now: datetime) -> datetime:
    """8:30 on 1 April of the fiscal year of `now` (local time), or `now` if that is still to come."""
    today = timezone.localdate(now)
    april = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    return min(timezone.make_aware(datetime.combine(april, time(8, 30))), now)


def office_moment(rng: random.Random, start: datetime, now: datetime) -> datetime:
    """A moment in office hours on a weekday between `start` and `now` (clamped to them)."""
    first, last = timezone.localdate(start), timezone.localdate(now)
    day = first + timedelta(days=rng.randint(0, (last - first).days))
    while day.weekday() >= 5 and day > first:
        day -= timedelta(days=1)
    opening, minutes = OFFICE_HOURS
    moment = timezone.make_aware(datetime.combine(day, opening)) + timedelta(minutes=rng.randint(0, minutes))
    return min(max(moment, start), now)


def course_ensure(created_at: datetime | None = None) -> tuple[Course, bool]:
    """The demo course with its question pool; (course, True) when it was created now."""
    course = Course.objects.filter(title=TITLE).first()
    if course:
        return course, False
    course = services.course_create(
        actor="demo", title=TITLE, body=BODY, pass_mark=80, questions_per_attempt=5, max_attempts=3,
        created_at=created_at,
    )  # fmt: skip
    for kind, text, choices, explanation in QUESTIONS:
        services.question_create(
            actor="demo",
            course=course,
            text=text,
            kind=QuestionKind(kind),
            choices=choices,
            explanation=explanation,
        )
    return course, True


def _history(
    rng: random.Random, course: Course, people: list[Staff], rates: dict[int, float], start: datetime
) -> list[TakenAttempt]:
    """Some never start (by department); the rest try up to three times, better each time, until they
    pass — on an office day since `start`, each retry 10–60 minutes after the one before."""
    pool = list(course.questions.prefetch_related("choices"))
    now = timezone.now()
    dates = random.Random(DATES_SEED)
    taken = []
    for staff in people:
        if rng.random() > rates.get(staff.department_id, 0.7):
            continue
        skill = rng.uniform(0.55, 1.0)
        at = office_moment(dates, start, now)
        for _ in range(rng.choice([1, 1, 2, 3])):
            answers = _answers(rng, pool, course.questions_per_attempt, skill)
            taken.append(TakenAttempt(staff=staff, answers=answers, submitted_at=at))
            at = min(at + timedelta(minutes=dates.randint(10, 60)), now)
            right = sum(
                1
                for q in pool
                if q.pk in answers and set(answers[q.pk]) == {c.pk for c in q.choices.all() if c.correct}
            )
            if 100 * right / len(answers) >= course.pass_mark:
                break
            skill = min(1.0, skill + 0.15)  # they read the explanations
    return taken


def _session(rng: random.Random, now: datetime) -> None:
    if sessions.ClassroomSession.objects.exists():
        return
    start = timezone.make_aware(datetime.combine(timezone.localdate(now) - timedelta(days=12), time(14)))
    announced = start - timedelta(days=30)  # registrations open a month ahead, close the day before
    session = sessions.session_create(
        actor="demo", title="情報セキュリティ研修（所属長・係長向け 集合研修）", starts_at=start,
        place="本庁舎 5階 大会議室", capacity=40, created_at=announced,
    )  # fmt: skip
    managers = list(
        Staff.objects.filter(status=StaffStatus.ACTIVE, position__in=["課長", "係長"]).order_by(
            "employee_number"
        )
    )
    chosen = rng.sample(managers, k=min(36, len(managers)))
    dates = random.Random(DATES_SEED)
    moments = sorted(office_moment(dates, announced, start - timedelta(days=1)) for _ in chosen)
    for person, at in zip(chosen, moments, strict=True):
        sessions.registration_add(actor="demo", session=session, staff=person, registered_at=at)
    registrations = list(session.registrations.all())
    sessions.attendance_set(
        actor="demo", session=session, attended={r.pk: rng.random() < 0.86 for r in registrations}
    )


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    if not Department.objects.filter(organisation=organisation).exists():
        return
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate(now)
    start = year_start(now)
    course, created = course_ensure(start)
    if created:
        assignments.rule_create(
            actor="demo",
            course=course,
            kind=RuleKind.ALL,
            due_on=today + timedelta(days=21),
            created_at=start,
        )
        april = timezone.localdate(start).replace(month=4, day=1)
        assignments.rule_create(
            actor="demo",
            course=course,
            kind=RuleKind.TRANSFERRED,
            since=april,
            due_on=april + timedelta(days=29),
            created_at=start,
        )
        keep_open = set(
            get_user_model()
            .objects.filter(username__in=KEEP_OPEN)
            .values_list("membership__staff", flat=True)
        )
        departments = list(Department.objects.filter(parent__isnull=False).order_by("code"))
        rates = {d.pk: rng.uniform(0.45, 0.95) for d in departments}
        people = [
            s
            for s in Staff.objects.filter(status=StaffStatus.ACTIVE).order_by("employee_number")
            if s.pk not in keep_open
        ]
        quiz.attempts_record(actor="demo", course=course, taken=_history(rng, course, people, rates, start))
    _session(rng, now)
    done = course.assignments.filter(completion__isnull=False).values("staff").distinct().count()
    total = course.assignments.values("staff").distinct().count()
    stdout.write(f"研修: 「{TITLE}」 修了 {done}/{total}人、受験 {course.attempts.count()}回、集合研修 1回\n")
