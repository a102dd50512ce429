"""「督促メールを送信」 on the overdue list: the officer mails one overdue person, or everyone the list
shows, there and then (the worker's reminder goes once after the due date, whatever happens next).
Officers only, CSRF-checked, one audited step per click, real mail through the configured backend,
one line that says what happened — and a second click of the same page sends nothing twice."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape as html_unescape

import pytest
from aiosmtpd.controller import Controller
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.models import AuditEvent, Role, StaffStatus
from mamori.apps.training import assignments, quiz
from mamori.apps.training.models import Assignment, RuleKind
from tests.apps.conftest import Sink
from tests.apps.disposal.helpers import signed_in
from tests.remote_servers import free_port

from .helpers import answers

pytestmark = pytest.mark.django_db
OVERDUE = reverse("training:overdue")
REMIND = reverse("training:overdue-remind")


@pytest.fixture
def overdue(world, course) -> list[Assignment]:
    """Both of the world's staff asked to take the course, due three days ago, neither done."""
    assignments.rule_create(
        actor="test", course=course, kind=RuleKind.ALL, due_on=timezone.localdate() + timedelta(days=1)
    )
    Assignment.objects.update(due_on=timezone.localdate() - timedelta(days=3))
    return list(Assignment.objects.order_by("staff__employee_number"))


def _forms(html: str) -> dict[str, dict[str, str]]:
    """The remind forms on the page, by their button's data-remind, with their fields as posted."""
    forms = {}
    for form in re.findall(r'<form method="post" action="' + REMIND + r'".*?</form>', html, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        forms[re.search(r'data-remind="([^"]+)"', form).group(1)] = fields
    return forms


def _said(response) -> list[str]:
    """The one-line messages the page the post leads back to shows."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post(client, form: dict[str, str]) -> list[str]:
    """Click a remind button: the answer leads back to the list, which says what happened."""
    response = client.post(REMIND, form)
    assert response.status_code == 302 and response["Location"].startswith(OVERDUE)
    html = client.get(response["Location"]).content.decode()
    return [html_unescape(m) for m in re.findall(r'<p class="message [^"]*" role="status">(.*?)</p>', html)]


def test_the_officer_reminds_one_overdue_person_and_the_row_says_when(world, overdue, smtp_sink):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    sato, suzuki = overdue
    forms = _forms(officer.get(OVERDUE).content.decode())
    assert set(forms) == {"all", str(sato.pk), str(suzuki.pk)}
    events = AuditEvent.objects.count()

    response = officer.post(REMIND, forms[str(sato.pk)])
    assert response.status_code == 302 and response["Location"] == OVERDUE
    assert _said(response) == ["佐藤 花子さんに督促メールを送信しました"]
    assert smtp_sink.recipients == [[world.staff_in_scope.email]]
    [sent] = smtp_sink.messages
    assert "受講期限" in str(sent["Subject"]) and "過ぎています" in str(sent["Subject"])
    assert reverse("training:course", args=[sato.course_id]) in sent.get_content()
    sato.refresh_from_db()
    assert sato.reminded_after is not None
    assert Assignment.objects.get(pk=suzuki.pk).reminded_after is None

    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == "training.assignment.remind" and event.actor == "officer"
    assert event.after["sent"] == [sato.pk] and event.object_id == str(sato.pk)
    page = officer.get(OVERDUE).content.decode()
    assert f"{timezone.localtime(sato.reminded_after):%Y-%m-%d %H:%M}" in page


def test_a_double_click_sends_each_mail_once_and_a_fresh_page_may_send_again(world, overdue, smtp_sink):
    officer = signed_in(world, Role.ADMINISTRATOR)
    everyone = _forms(officer.get(OVERDUE).content.decode())["all"]
    events = AuditEvent.objects.count()

    officer.post(REMIND, everyone)
    # the same page's button again before the answer came: the list then says both what went and
    # that the second click sent nothing
    assert _post(officer, everyone) == [
        "督促メールを2人に送信しました",
        "この一覧を開いた後に督促メールを送信済みです（2人）。もう一度送るときは一覧を開き直してください",
    ]
    assert len(smtp_sink.messages) == 2 and AuditEvent.objects.count() == events + 1

    again = _forms(officer.get(OVERDUE).content.decode())["all"]  # a week later, say: a new reminder
    assert _post(officer, again) == ["督促メールを2人に送信しました"]
    assert len(smtp_sink.messages) == 4 and AuditEvent.objects.count() == events + 2


def test_those_without_an_address_or_no_longer_in_service_are_counted_not_mailed(world, overdue, smtp_sink):
    world.staff_outside.email = ""
    world.staff_outside.save(update_fields=["email"])
    officer = signed_in(world, Role.SECURITY_OFFICER)
    response = officer.post(REMIND, _forms(officer.get(OVERDUE).content.decode())["all"])
    assert _said(response) == [
        "督促メールを1人に送信しました。メールアドレスがないか在職していない1人には送っていません"
    ]
    assert smtp_sink.recipients == [[world.staff_in_scope.email]]
    world.staff_in_scope.status = StaffStatus.LEFT
    world.staff_in_scope.save(update_fields=["status"])
    response = officer.post(REMIND, _forms(officer.get(OVERDUE).content.decode())["all"])
    assert _said(response) == ["メールアドレスがないか在職していないため、督促メールを送れる人がいません"]
    assert len(smtp_sink.messages) == 1


def test_an_unreachable_mail_server_is_one_line_and_marks_no_one(world, overdue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    officer = signed_in(world, Role.SECURITY_OFFICER)
    events = AuditEvent.objects.count()
    response = officer.post(REMIND, _forms(officer.get(OVERDUE).content.decode())["all"])
    [said] = _said(response)
    assert said.startswith("メールサーバに接続できないため、督促メールを送れませんでした（")
    assert said.endswith("）。メールの設定（EMAIL_HOST・EMAIL_PORT）を確かめてください") and "\n" not in said
    assert not Assignment.objects.filter(reminded_after__isnull=False).exists()
    assert AuditEvent.objects.count() == events


def test_the_mail_is_in_japanese_when_the_officer_reads_english(world, overdue, smtp_sink):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    officer.cookies["django_language"] = "en"
    response = officer.post(REMIND, _forms(officer.get(OVERDUE).content.decode())["all"])
    assert _said(response) == ["Reminder mails sent to 2 people"]
    assert all("過ぎています" in str(m["Subject"]) for m in smtp_sink.messages)
    one = _forms(officer.get(OVERDUE).content.decode())[str(overdue[0].pk)]
    assert _post(officer, one) == ["Reminder mail sent to 佐藤 花子"]


@pytest.mark.parametrize("role", [Role.DEPARTMENT_LEAD, Role.AUDITOR, Role.STAFF])
def test_only_officers_may_remind_and_others_see_no_button(world, overdue, smtp_sink, role):
    client = signed_in(world, role)
    page = client.get(OVERDUE)
    assert page.status_code == (403 if role == Role.STAFF else 200)
    assert REMIND not in page.content.decode()
    officer_form = _forms(signed_in(world, Role.SECURITY_OFFICER).get(OVERDUE).content.decode())["all"]
    assert client.post(REMIND, officer_form).status_code == 403
    assert smtp_sink.messages == []


def test_a_post_without_the_csrf_token_is_refused(world, overdue, smtp_sink):
    officer = Client(enforce_csrf_checks=True)
    officer.force_login(world.users[Role.SECURITY_OFFICER])
    form = _forms(officer.get(OVERDUE).content.decode())["all"]
    assert (
        officer.post(REMIND, {k: v for k, v in form.items() if k != "csrfmiddlewaretoken"}).status_code == 403
    )
    assert smtp_sink.messages == []
    assert officer.post(REMIND, form).status_code == 302 and len(smtp_sink.messages) == 2


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        ({"assignment": "999999"}, "この割当ては期限を過ぎた未修了者の一覧にありません"),
        ({"shown_at": "not a time"}, "一覧をもう一度開いてから送信してください"),
        ({"shown_at": "2999-01-01T00:00:00+09:00"}, "一覧をもう一度開いてから送信してください"),
    ],
)
def test_a_tampered_form_sends_nothing_and_says_why(world, overdue, smtp_sink, tamper, said):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    form = _forms(officer.get(OVERDUE).content.decode())[str(overdue[0].pk)] | tamper
    events = AuditEvent.objects.count()
    response = officer.post(REMIND, form)
    assert response.status_code == 302 and _said(response) == [said]
    assert smtp_sink.messages == [] and AuditEvent.objects.count() == events


def test_a_person_who_passed_after_the_list_was_opened_gets_no_mail(world, overdue, smtp_sink):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    form = _forms(officer.get(OVERDUE).content.decode())[str(overdue[0].pk)]
    attempt = quiz.attempt_start(actor="staff", staff=world.staff_in_scope, course=overdue[0].course)
    quiz.attempt_submit(
        actor="staff", staff=world.staff_in_scope, attempt_id=attempt.pk, answers=answers(attempt, right=4)
    )
    assert _post(officer, form) == ["この割当ては期限を過ぎた未修了者の一覧にありません"]
    assert smtp_sink.messages == []


class RefuseOne(Sink):
    """A mail server that accepts every recipient but one."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_server_that_refuses_midway_keeps_what_went_and_says_who_was_left(world, overdue, settings):
    sink = RefuseOne(world.staff_outside.email)  # 鈴木, the second on the list
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
    try:
        officer = signed_in(world, Role.SECURITY_OFFICER)
        [said] = _post(officer, _forms(officer.get(OVERDUE).content.decode())["all"])
    finally:
        controller.stop()
    assert said.startswith(
        "督促メールを1人に送信しました。メールサーバが途中で拒否したため1人には送れませんでした（"
    )
    assert "no such user here" in said and sink.recipients == [[world.staff_in_scope.email]]
    sato, suzuki = (Assignment.objects.get(pk=a.pk) for a in overdue)
    assert sato.reminded_after is not None and suzuki.reminded_after is None
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == "training.assignment.remind" and event.after == {
        "sent": [sato.pk],
        "left_unsent": 1,
    }
