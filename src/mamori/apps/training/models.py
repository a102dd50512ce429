"""Training models: courses (versioned Markdown), question pools, attempts, assignments by rule,
classroom sessions. Writes go through `services`, reads through `selectors`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Department, Role, Staff


class Course(models.Model):
    """A course; its text lives in versions, its quiz settings here (they apply to new attempts)."""

    title = models.CharField(_("研修名"), max_length=200)
    pass_mark = models.PositiveSmallIntegerField(_("合格点（%）"), default=80)
    questions_per_attempt = models.PositiveSmallIntegerField(_("1回の出題数"), default=5)
    max_attempts = models.PositiveSmallIntegerField(_("受験回数の上限（0は無制限）"), default=3)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("研修")
        verbose_name_plural = _("研修")

    def __str__(self) -> str:
        return self.title

    @property
    def current_version(self) -> CourseVersion | None:
        return self.versions.order_by("-number").first()


class CourseVersion(models.Model):
    """One version of a course's text. Never edited: a change makes the next number."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版"))
    title = models.CharField(_("研修名"), max_length=200)
    body = models.TextField(_("本文（Markdown）"))
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["course", "-number"]
        constraints = [models.UniqueConstraint(fields=["course", "number"], name="uniq_course_version")]

    def __str__(self) -> str:
        return f"{self.title} 第{self.number}版"


class CourseImage(models.Model):
    """An image a course's Markdown shows as `![説明](image:ID)`; checked by decoding, kept in the database."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="images")
    content = models.BinaryField()
    content_type = models.CharField(max_length=30)
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.original_name


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("単一選択")
    MULTIPLE = "multiple", _("複数選択")


class Question(models.Model):
    """A question of a course's pool; each attempt draws `questions_per_attempt` of the active ones."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(
        _("形式"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.SINGLE
    )
    text = models.TextField(_("設問"))
    explanation = models.TextField(_("解説"), blank=True)
    active = models.BooleanField(_("出題する"), default=True)

    class Meta:
        ordering = ["course", "pk"]

    def __str__(self) -> str:
        return self.text[:50]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("選択肢"), max_length=300)
    correct = models.BooleanField(_("正解"), default=False)

    class Meta:
        ordering = ["question", "pk"]

    def __str__(self) -> str:
        return self.text


class Attempt(models.Model):
    """One sitting of a course's quiz: the questions drawn (in their order) and, once submitted, the score."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="training_attempts")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="attempts")
    version = models.ForeignKey(CourseVersion, on_delete=models.PROTECT, related_name="attempts")
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("得点（%）"), null=True, blank=True)
    passed = models.BooleanField(_("合格"), default=False)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.staff} {self.course} #{self.pk}"


class AttemptQuestion(models.Model):
    """A drawn question: its position, the choice order shown, what was chosen and whether it was right."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    choice_order = models.JSONField(default=list)
    selected = models.JSONField(default=list)
    correct = models.BooleanField(null=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="uniq_attempt_question")]

    def __str__(self) -> str:
        return f"#{self.attempt_id} {self.position}"


class Completion(models.Model):
    """A passed course: the version passed and the attempt that passed it (the evidence)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="training_completions")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="completions")
    version = models.ForeignKey(CourseVersion, on_delete=models.PROTECT, related_name="completions")
    attempt = models.OneToOneField(Attempt, on_delete=models.PROTECT, related_name="completion")
    completed_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-completed_at"]

    def __str__(self) -> str:
        return f"{self.staff} {self.version}"


class Progress(models.Model):
    """Where a person left a course's text (a bookmark, so they resume there)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    section = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "course"], name="uniq_training_progress")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.course_id} {self.section}"


class RuleKind(models.TextChoices):
    ALL = "all", _("全職員")
    NEW = "new", _("新規採用職員（採用日が基準日以降）")
    TRANSFERRED = "transferred", _("異動した職員（発令日が基準日以降）")
    DEPARTMENT = "department", _("所属")
    ROLE = "role", _("ロール")


class AssignmentRule(models.Model):
    """Who must take a course by when. Applied when created and again on each worker tick, so staff who
    match later (an April transfer imported afterwards, a new hire) are assigned too."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("対象"), max_length=12, choices=RuleKind.choices)
    since = models.DateField(_("基準日"), null=True, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    role = models.CharField(_("ロール"), max_length=20, choices=Role.choices, blank=True)
    due_on = models.DateField(_("期限"))
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.course} / {self.get_kind_display()}"


class Assignment(models.Model):
    """A course asked of one person by one rule; done when they pass it after being assigned."""

    rule = models.ForeignKey(AssignmentRule, on_delete=models.CASCADE, related_name="assignments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="training_assignments")
    assigned_at = models.DateTimeField()
    due_on = models.DateField(_("期限"))
    completion = models.ForeignKey(Completion, null=True, blank=True, on_delete=models.SET_NULL)
    reminded_before = models.DateTimeField(null=True, blank=True)
    reminded_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "staff"], name="uniq_rule_staff")]

    def __str__(self) -> str:
        return f"{self.staff} {self.course} ({self.due_on})"


class ClassroomSession(models.Model):
    """A classroom session (集合研修)."""

    title = models.CharField(_("研修名"), max_length=200)
    starts_at = models.DateTimeField(_("日時"))
    place = models.CharField(_("会場"), max_length=200)
    capacity = models.PositiveSmallIntegerField(_("定員"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    session = models.ForeignKey(ClassroomSession, on_delete=models.CASCADE, related_name="registrations")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="training_registrations")
    registered_at = models.DateTimeField()
    attended = models.BooleanField(_("出席"), null=True)

    class Meta:
        ordering = ["session", "staff__employee_number"]
        constraints = [models.UniqueConstraint(fields=["session", "staff"], name="uniq_session_staff")]

    def __str__(self) -> str:
        return f"{self.session} {self.staff}"
