"""Problems found in an import file, and the one error that carries them all.

A reader checks the whole file, collects every problem with its line number (or JSON path), and
raises one `FormatError` when there is any: all or nothing. Messages are Japanese msgids with
`%(name)s` fields, marked with `gettext_noop` so `makemessages` finds them while this package stays
Django-free; the app renders them with `problem.render(gettext)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A file of 300,000 bad lines must not become a 60 MB page: the first messages and a count.
MAX_PROBLEMS_KEPT = 100


def gettext_noop(message: str) -> str:
    """Marks a msgid for extraction (xgettext knows the name); translation happens in the app."""
    return message


AT_LINE = gettext_noop("%(line)d行目: ")
AT_PATH = gettext_noop("%(path)s: ")
MORE = gettext_noop("（ほか %(count)d 件）")


def _identity(message: str) -> str:
    return message


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported: where (line or JSON path), a msgid and its fields."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None
    path: str = ""

    @property
    def where(self) -> tuple[str, dict[str, Any]] | None:
        """The msgid and fields of the message's prefix (its line, or its JSON path), if it has one."""
        if self.line is not None:
            return AT_LINE, {"line": self.line}
        if self.path:
            return AT_PATH, {"path": self.path}
        return None

    def render(self, translate: Callable[[str], str] = _identity) -> str:
        """The one-line message, translated by `translate` (the app passes `gettext`)."""
        text = translate(self.message) % dict(self.params)
        if self.where is None:
            return text
        prefix, fields = self.where
        return translate(prefix) % fields + text

    def __str__(self) -> str:
        return self.render()


class FormatError(ValueError):
    """The file cannot be imported; `problems` holds the first MAX_PROBLEMS_KEPT, `count` all of them.

    `line` and `path` are those of the first problem, for callers that show one line only.
    """

    def __init__(self, problems: list[Problem], count: int | None = None) -> None:
        if not problems:
            raise ValueError("FormatError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems[:MAX_PROBLEMS_KEPT])
        self.count = max(count or 0, len(problems))
        super().__init__(self.render())

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def path(self) -> str:
        return self.problems[0].path

    def render(self, translate: Callable[[str], str] = _identity) -> str:
        """The first problem on one line, and how many more there are."""
        text = self.problems[0].render(translate)
        if self.count > 1:
            text += translate(MORE) % {"count": self.count - 1}
        return text

    def messages(self, translate: Callable[[str], str] = _identity) -> list[str]:
        return [problem.render(translate) for problem in self.problems]


class Problems:
    """Collects problems while a reader walks the file; `raise_if_any()` at the end."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.count = 0

    def add(self, message: str, *, line: int | None = None, path: str = "", **params: Any) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(Problem(message, params, line, path))

    def __bool__(self) -> bool:
        return self.count > 0

    def raise_if_any(self) -> None:
        if self.count:
            raise FormatError(self.kept, self.count)


def fail(message: str, *, line: int | None = None, path: str = "", **params: Any) -> FormatError:
    """A FormatError with one problem, for faults that stop reading at once (size, syntax)."""
    return FormatError([Problem(message, params, line, path)])
