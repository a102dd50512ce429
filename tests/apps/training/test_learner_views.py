"""Taking a course over HTTP: reading resumes where left and needs no script, the quiz form is graded
on the server, a hostile or replayed POST is refused with a message and saves nothing, the
certificate is a PDF with the person's name; staff cannot open what is not theirs."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from mamori.apps.training import assignments, quiz
from mamori.apps.training.models import Attempt, RuleKind

from .helpers import answers, form_data, make_course, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner(world, course):  # type: ignore[no-untyped-def]
    user, staff = staff_member(world.gyokaku, number="500001")
    assignments.rule_create(
        actor="test", course=course, kind=RuleKind.ALL, due_on=timezone.localdate() + timedelta(days=14)
    )
    client = Client()
    client.force_login(user)
    return client, user, staff


def test_my_courses_lists_the_assignment_and_the_course_reads_page_by_page(learner, course):
    client, _user, _staff = learner
    page = client.get(reverse("training:my")).content.decode()
    assert "情報セキュリティの基本" in page and reverse("training:course", args=[course.pk]) in page
    first = client.get(reverse("training:course", args=[course.pk])).content.decode()
    assert "情報セキュリティの基本です" in first and "<script" not in first.split("<main", 1)[1]
    assert 'rel="next"' in first and "確認テストを受ける" not in first


def test_a_course_asked_by_two_rules_is_listed_once_by_its_first_due_date(learner, course, world):
    client, _user, _staff = learner  # asked of all staff within 14 days, and of 行政改革課 within 7
    soon = timezone.localdate() + timedelta(days=7)
    assignments.rule_create(
        actor="test", course=course, kind=RuleKind.DEPARTMENT, department=world.gyokaku, due_on=soon
    )
    page = client.get(reverse("training:my")).content.decode()
    assert page.count(f'data-course="{course.pk}"') == 1 and f"期限 {soon:%Y-%m-%d}" in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert dashboard.count("研修「情報セキュリティの基本」を受講") == 1


def test_reading_resumes_at_the_last_page_opened(learner, course):
    client, _user, _staff = learner
    client.get(reverse("training:course", args=[course.pk]) + "?section=1")
    again = client.get(reverse("training:course", args=[course.pk])).content.decode()
    assert "長く、使い回さないこと" in again


def test_the_quiz_over_http_fails_then_passes_and_gives_a_certificate(learner, course):
    client, _user, staff = learner
    start = reverse("training:attempt-start", args=[course.pk])
    response = client.post(start)
    attempt = Attempt.objects.get(staff=staff)
    assert response["Location"] == reverse("training:attempt", args=[attempt.pk])
    form = client.get(response["Location"]).content.decode()
    assert form.count('<fieldset class="question"') == 4
    client.post(response["Location"], form_data(answers(attempt, right=1)))
    result = client.get(reverse("training:attempt-result", args=[attempt.pk])).content.decode()
    assert 'data-passed="no"' in result and "解説" in result
    second = Attempt.objects.get(pk=int(client.post(start)["Location"].rstrip("/").split("/")[-1]))
    client.post(reverse("training:attempt", args=[second.pk]), form_data(answers(second, right=4)))
    result = client.get(reverse("training:attempt-result", args=[second.pk])).content.decode()
    assert 'data-passed="yes"' in result
    certificate = client.get(reverse("training:certificate", args=[second.completion.pk]))
    assert certificate["Content-Type"] == "application/pdf" and certificate.content.startswith(b"%PDF-")
    assert staff.training_assignments.get().completion == second.completion


def test_a_forged_or_replayed_post_gets_a_clear_message_and_changes_nothing(learner, course, world):
    client, user, staff = learner
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    url = reverse("training:attempt", args=[attempt.pk])
    forged = client.post(url, {"q999999": ["1"]})
    assert forged.status_code == 400 and "出題されていない設問" in forged.content.decode()
    junk = client.post(url, {"answer": "x"})
    assert junk.status_code == 400
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    client.post(url, form_data(answers(attempt, right=0)))
    replay = client.post(url, form_data(answers(attempt, right=4)))
    assert replay.status_code == 409 and "二重送信" in replay.content.decode()
    attempt.refresh_from_db()
    assert attempt.score == 0


def test_staff_cannot_open_another_persons_attempt_or_certificate_or_an_unassigned_course(
    learner, course, world
):
    client, _user, _staff = learner
    other_user, other = staff_member(world.kosodate, number="500002")
    theirs = quiz.attempt_start(actor=other_user, staff=other, course=course)
    quiz.attempt_submit(actor=other_user, staff=other, attempt_id=theirs.pk, answers=answers(theirs, right=4))
    for name, pk in [("training:attempt", theirs.pk), ("training:attempt-result", theirs.pk),
                     ("training:certificate", theirs.completion.pk)]:  # fmt: skip
        assert client.get(reverse(name, args=[pk])).status_code == 404
    assert client.post(reverse("training:attempt", args=[theirs.pk]), {}).status_code == 404
    unassigned = make_course()
    assert client.get(reverse("training:course", args=[unassigned.pk])).status_code == 404


def test_the_lead_sees_an_attempt_in_their_department_and_not_elsewhere(learner, course, world):
    _client, user, staff = learner
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    lead = Client()
    lead.force_login(world.users["department_lead"])
    response = lead.get(reverse("training:attempt-result", args=[attempt.pk]))
    assert response.status_code == 200 and "受験中" in response.content.decode()
    assert "正解" not in response.content.decode()  # nothing of the answers before submission
    other_user, other = staff_member(world.kosodate, number="500003")
    elsewhere = quiz.attempt_start(actor=other_user, staff=other, course=course)
    assert lead.get(reverse("training:attempt-result", args=[elsewhere.pk])).status_code == 404


@pytest.mark.parametrize(("language", "words"), [("ja", "証明番号"), ("en", "Certificate of Completion")])
def test_the_certificate_declares_the_language_it_is_written_in(learner, course, language, words):
    """The PDF's language (read by screen readers, and by the renderer for its glyphs and line
    breaks) is the reader's, as its words are — it said Japanese for an English certificate, and
    the title's spacing meant for 修了証 spread "Certificate" letter by letter."""
    client, user, staff = learner
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    attempt = quiz.attempt_submit(
        actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=4)
    )
    client.cookies["django_language"] = language
    response = client.get(reverse("training:certificate", args=[attempt.completion.pk]))
    pdf = PdfReader(io.BytesIO(response.content))
    assert pdf.trailer["/Root"]["/Lang"] == language
    assert words in pdf.pages[0].extract_text()
