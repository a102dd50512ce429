"""The officer's course pages over HTTP: create, revise (a new version), add a question, upload an
image; a lying upload is refused on the form and nothing is saved."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mamori.apps.core.models import Role
from mamori.apps.training.models import Course, CourseImage

from .test_courses import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    return client


def test_the_officer_writes_a_course_revises_it_and_adds_a_question_and_an_image(officer):
    fields = {"title": "標的型メール訓練", "body": "## 一\n本文", "pass_mark": 80, "questions_per_attempt": 1,
              "max_attempts": 2}  # fmt: skip
    response = officer.post(reverse("training:course-create"), fields)
    course = Course.objects.get()
    assert response["Location"] == reverse("training:course-detail", args=[course.pk])
    officer.post(reverse("training:course-edit", args=[course.pk]), fields | {"body": "## 一\n改訂した本文"})
    assert list(course.versions.values_list("number", flat=True)) == [2, 1]
    officer.post(reverse("training:question-create", args=[course.pk]), {
        "text": "開いてよい添付は？", "kind": "single", "explanation": "差出人を確かめる",
        "choice_1": "知らない差出人のマクロ付き文書", "choice_2": "開かずに相談する", "correct_2": "on",
    })  # fmt: skip
    assert course.questions.get().choices.filter(correct=True).get().text == "開かずに相談する"
    officer.post(reverse("training:image-upload", args=[course.pk]),
                 {"file": SimpleUploadedFile("図.png", png(), content_type="image/png")})  # fmt: skip
    image = CourseImage.objects.get()
    page = officer.get(reverse("training:course-detail", args=[course.pk])).content.decode()
    assert f"image:{image.pk}" in page and "改訂した本文" in page and "（単一選択）" in page
    officer.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = officer.get(reverse("training:course-detail", args=[course.pk])).content.decode()
    assert "(Single choice)" in page and "（Single choice）" not in page


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("photo.jpg", b"MZ\x90\x00 not a picture"),
    ],
)
def test_a_lying_upload_is_refused_on_the_form_and_nothing_is_saved(officer, course, name, content):
    response = officer.post(reverse("training:image-upload", args=[course.pk]),
                            {"file": SimpleUploadedFile(name, content, content_type="image/png")})  # fmt: skip
    assert response.status_code == 200 and "SVGは不可" in response.content.decode()
    assert not CourseImage.objects.exists()


def test_an_oversized_upload_is_refused(officer, course, settings):
    settings.MAMORI_TRAINING_IMAGE_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.png", png((400, 400)) + b"\0" * 2048, content_type="image/png")
    response = officer.post(reverse("training:image-upload", args=[course.pk]), {"file": big})
    assert "画像が大きすぎます" in response.content.decode() and not CourseImage.objects.exists()
