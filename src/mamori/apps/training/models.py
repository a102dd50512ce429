"""Training models: courses (versioned Markdown), question pools, attempts, assignments by rule,
classroom sessions. Writes go through `services`, reads through `selectors`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.core.models import Department, Role, Staff


class Course(models.Model):
    """A course; its text lives in versions, its quiz settings here (they apply to new attempts)."""

    title = models.CharField(_("研修名"), max_length=200)
    pass_mark = models.PositiveSmallIntegerField(_("合格点（%）"), default=80)
    questions_per_attempt = models.PositiveSmallIntegerField(_("1回の出題数"), default=5)
    max_attempts = models.PositiveSmallIntegerField(_("受験回数の上限（0は無制限）"), default=3)
    created_at = models.DateTimeField(_("作成日時"))

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

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="versions", verbose_name=_("研修")
    )
    number = models.PositiveIntegerField(_("版"))
    title = models.CharField(_("研修名"), max_length=200)
    body = models.TextField(_("本文（Markdown）"))
    created_at = models.DateTimeField(_("作成日時"))
    created_by = models.CharField(_("作成者"), max_length=150)

    class Meta:
        ordering = ["course", "-number"]
        verbose_name = _("研修の版")
        verbose_name_plural = _("研修の版")
        constraints = [models.UniqueConstraint(fields=["course", "number"], name="uniq_course_version")]

    def __str__(self) -> str:
        return _("{title} 第{number}版").format(title=self.title, number=self.number)


class CourseImage(models.Model):
    """An image a course's Markdown shows as `![説明](image:ID)`; checked by decoding, kept in the database."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="images", verbose_name=_("研修")
    )
    content = models.BinaryField(_("画像データ"))
    content_type = models.CharField(_("ファイル形式"), max_length=30)
    original_name = models.CharField(_("ファイル名"), max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField(_("登録日時"))

    class Meta:
        verbose_name = _("研修の画像")
        verbose_name_plural = _("研修の画像")

    def __str__(self) -> str:
        return self.original_name


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("単一選択")
    MULTIPLE = "multiple", _("複数選択")


class Question(models.Model):
    """A question of a course's pool; each attempt draws `questions_per_attempt` of the active ones."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="questions", verbose_name=_("研修")
    )
    kind = models.CharField(
        pgettext_lazy("question", "形式"),
        max_length=10,
        choices=QuestionKind.choices,
        default=QuestionKind.SINGLE,
    )
    text = models.TextField(_("設問"))
    explanation = models.TextField(_("解説"), blank=True)
    active = models.BooleanField(_("出題する"), default=True)

    class Meta:
        ordering = ["course", "pk"]
        verbose_name = _("設問")
        verbose_name_plural = _("設問")

    def __str__(self) -> str:
        return self.text[:50]


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("設問")
    )
    text = models.CharField(_("選択肢"), max_length=300)
    correct = models.BooleanField(_("正解"), default=False)

    class Meta:
        ordering = ["question", "pk"]
        verbose_name = _("選択肢")
        verbose_name_plural = _("選択肢")

    def __str__(self) -> str:
        return self.text


class Attempt(models.Model):
    """One sitting of a course's quiz: the questions drawn (in their order) and, once submitted, the score."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="training_attempts", verbose_name=_("職員")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("研修")
    )
    version = models.ForeignKey(
        CourseVersion, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("版")
    )
    started_at = models.DateTimeField(_("開始日時"))
    submitted_at = models.DateTimeField(_("回答の送信日時"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("得点（%）"), null=True, blank=True)
    passed = models.BooleanField(_("合格"), default=False)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("確認テストの受験")
        verbose_name_plural = _("確認テストの受験")

    def __str__(self) -> str:
        return f"{self.staff} {self.course} #{self.pk}"


class AttemptQuestion(models.Model):
    """A drawn question: its position, the choice order shown, what was chosen and whether it was right."""

    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, related_name="items", verbose_name=_("確認テストの受験")
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+", verbose_name=_("設問"))
    position = models.PositiveSmallIntegerField(_("出題順"))
    choice_order = models.JSONField(_("選択肢の表示順"), default=list)
    selected = models.JSONField(_("選んだ選択肢"), default=list)
    correct = models.BooleanField(_("正答"), null=True)

    class Meta:
        ordering = ["attempt", "position"]
        verbose_name = _("出題された設問")
        verbose_name_plural = _("出題された設問")
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="uniq_attempt_question")]

    def __str__(self) -> str:
        return f"#{self.attempt_id} {self.position}"


class Completion(models.Model):
    """A passed course: the version passed and the attempt that passed it (the evidence)."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="training_completions", verbose_name=_("職員")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="completions", verbose_name=_("研修")
    )
    version = models.ForeignKey(
        CourseVersion, on_delete=models.PROTECT, related_name="completions", verbose_name=_("版")
    )
    attempt = models.OneToOneField(
        Attempt, on_delete=models.PROTECT, related_name="completion", verbose_name=_("合格した受験")
    )
    completed_at = models.DateTimeField(_("修了日時"))
    score = models.PositiveSmallIntegerField(_("得点（%）"))

    class Meta:
        ordering = ["-completed_at"]
        verbose_name = _("研修の修了")
        verbose_name_plural = _("研修の修了")

    def __str__(self) -> str:
        return f"{self.staff} {self.version}"


class Progress(models.Model):
    """Where a person left a course's text (a bookmark, so they resume there)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+", verbose_name=_("職員"))
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("研修"))
    section = models.PositiveSmallIntegerField(_("続きのページ"), default=0)

    class Meta:
        verbose_name = _("受講の進み具合")
        verbose_name_plural = _("受講の進み具合")
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

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="rules", verbose_name=_("研修"))
    kind = models.CharField(_("対象"), max_length=12, choices=RuleKind.choices)
    since = models.DateField(_("基準日"), null=True, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("所属")
    )
    role = models.CharField(_("ロール"), max_length=20, choices=Role.choices, blank=True)
    due_on = models.DateField(_("期限"))
    created_at = models.DateTimeField(_("作成日時"))
    created_by = models.CharField(_("作成者"), max_length=150)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # the page that makes one is titled "受講対象の割当て" ("Assign the course")
        verbose_name = pgettext_lazy("model", "受講対象の割当て")
        verbose_name_plural = pgettext_lazy("model", "受講対象の割当て")

    def __str__(self) -> str:
        return f"{self.course} / {self.get_kind_display()}"


class Assignment(models.Model):
    """A course asked of one person by one rule; done when they pass it after being assigned."""

    rule = models.ForeignKey(
        AssignmentRule,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=pgettext_lazy("model", "受講対象の割当て"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("研修")
    )
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="training_assignments", verbose_name=_("職員")
    )
    assigned_at = models.DateTimeField(_("割当日時"))
    due_on = models.DateField(_("期限"))
    completion = models.ForeignKey(
        Completion, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("研修の修了")
    )
    reminded_before = models.DateTimeField(_("期限前の督促日時"), null=True, blank=True)
    reminded_after = models.DateTimeField(_("期限後の督促日時"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("職員への割当て")
        verbose_name_plural = _("職員への割当て")
        constraints = [models.UniqueConstraint(fields=["rule", "staff"], name="uniq_rule_staff")]

    def __str__(self) -> str:
        return f"{self.staff} {self.course} ({self.due_on})"


class ClassroomSession(models.Model):
    """A classroom session (集合研修)."""

    title = models.CharField(_("研修名"), max_length=200)
    starts_at = models.DateTimeField(_("日時"))
    place = models.CharField(_("会場"), max_length=200)
    capacity = models.PositiveSmallIntegerField(_("定員"))
    created_at = models.DateTimeField(_("作成日時"))

    class Meta:
        ordering = ["-starts_at"]
        # the menu's "集合研修" is the plural ("Classroom sessions")
        verbose_name = pgettext_lazy("model", "集合研修")
        verbose_name_plural = _("集合研修")

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    session = models.ForeignKey(
        ClassroomSession,
        on_delete=models.CASCADE,
        related_name="registrations",
        verbose_name=pgettext_lazy("model", "集合研修"),
    )
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="training_registrations", verbose_name=_("職員")
    )
    registered_at = models.DateTimeField(_("申込日時"))
    attended = models.BooleanField(_("出席"), null=True)

    class Meta:
        ordering = ["session", "staff__employee_number"]
        verbose_name = _("集合研修の申込")
        verbose_name_plural = _("集合研修の申込")
        constraints = [models.UniqueConstraint(fields=["session", "staff"], name="uniq_session_staff")]

    def __str__(self) -> str:
        return f"{self.session} {self.staff}"
