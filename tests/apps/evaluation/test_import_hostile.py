"""Hostile evaluation documents, written by hand (not by our exporter): each is refused with a short
error that names the line, nothing is saved, and no file can make the import use unbounded memory."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest
from django.core.management import CommandError, call_command

from mamori.apps.core.models import AuditEvent, Department
from mamori.apps.evaluation.document import MAX_NODES
from mamori.apps.evaluation.models import Program

HEAD = "format: mamori-evaluation\nversion: 1\n"


def program(ref: str, department: str) -> str:
    return (
        f'- reference_number: "{ref}"\n'
        "  chapter: {number: 1, title: 安全安心}\n"
        '  section: {number: "01", title: 情報}\n'
        '  measure: {number: "01", title: 守る}\n'
        f"  department: {department}\n"
        "  name: 事業\n"
    )


def refused(tmp_path, text: str) -> str:
    """Import `text` through the command; return its one error, after checking nothing was saved."""
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as exc:
        call_command("evaluation", "import", str(path))
    assert AuditEvent.objects.count() == events and not Program.objects.exists()
    return str(exc.value)


@pytest.mark.parametrize(
    ("department", "detail"),
    [
        ('{code: "3001", name: null}', "name は文字列で書いてください（None）"),
        ('{code: "3001", name: ""}', "所管課の code と name は空にできません"),
        ('{code: "3001", name: [a, b]}', "name は文字列で書いてください（['a', 'b']）"),
        ('{code: "3001"}', "項目 'name' がありません"),
        ('{code: "3001", name: 課, parent: {code: null, name: 部}}', "code は文字列で書いてください（None）"),
    ],
)
def test_a_department_without_a_usable_name_is_refused_by_line(organisation, tmp_path, department, detail):
    message = refused(tmp_path, HEAD + "programs:\n" + program("2001", department))
    where = (
        "programs[0].department.parent（8行目）"
        if "parent" in department
        else "programs[0].department（8行目）"
    )
    assert message == f"{where}: {detail}"
    assert not Department.objects.filter(code="3001").exists()


def test_an_over_long_department_or_title_is_refused_not_a_database_error(organisation, tmp_path):
    long_name = "課" * 101
    text = HEAD + "programs:\n" + program("2001", f'{{code: "3001", name: {long_name}}}')
    text += program("2002", '{code: "3002", name: 課}').replace("title: 守る", "title: " + "守" * 201)
    message = refused(tmp_path, text).splitlines()
    assert message[0].startswith("programs[0].department（8行目）: 所属名:") and "100" in message[0]
    # the field's label (施策), not its attribute name
    assert message[1].startswith("programs[1]（10行目）: 施策:") and "200" in message[1]
    assert len(message) == 2


def test_an_alias_bomb_is_one_short_line_in_bounded_time_and_memory(organisation, tmp_path):
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    text = HEAD + "\n".join(lines) + "\nprograms: [*i]\n"
    assert len(text.encode()) < 400  # 9**9 = 387 million strings once expanded
    tracemalloc.start()
    started = time.monotonic()
    try:
        message = refused(tmp_path, text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5 and peak < 20 * 1024 * 1024
    assert "\n" not in message and len(message) < 300
    assert message.endswith(f"{MAX_NODES:,} 項目まで）。別名を使わずに書いてください")
    assert "hostile.yaml: 読み込めません: 9行目: 別名" in message  # the first node too large to expand


def test_a_recursive_alias_is_refused(organisation, tmp_path):
    message = refused(tmp_path, HEAD + "programs: &p [*p]\n")
    assert "読み込めません: 3行目: 別名" in message


def test_anchors_that_stay_small_are_allowed(organisation, tmp_path):
    dept = "shared: &d {code: '3001', name: 情報政策課}\n"
    path = tmp_path / "anchors.yaml"
    path.write_text(
        HEAD + dept + "programs:\n" + program("2001", "*d") + program("2002", "*d"), encoding="utf-8"
    )
    call_command("evaluation", "import", str(path), stdout=io.StringIO())
    assert {p.department.name for p in Program.objects.all()} == {"情報政策課"}


def test_many_bad_entries_give_the_first_hundred_and_a_count(organisation, tmp_path):
    text = HEAD + "programs:\n" + "".join(program(str(3000 + i), "{code: x, name: null}") for i in range(150))
    message = refused(tmp_path, text).splitlines()
    assert len(message) == 101 and message[-1] == "…ほか 50 件の誤り（最初の100件を表示）"
    assert message[0] == "programs[0].department（8行目）: name は文字列で書いてください（None）"
    assert message[99].startswith("programs[99].department（")


def test_a_huge_value_is_quoted_short(organisation, tmp_path):
    text = HEAD + "unit_costs:\n- {fiscal_year: 2024, category: regular, yen: " + "9x" * 500_000 + "}\n"
    message = refused(tmp_path, text)
    assert message.startswith("unit_costs[0]（4行目）: 項目が不正です:") and len(message) <= 400
