from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mamori.apps.core.models import AuditEvent, Staff, StaffTransfer
from mamori.apps.core.staff_import import PLAN_CHANGED, FieldChange, staff_import, staff_import_preview

from .factories import StaffFactory

pytestmark = pytest.mark.django_db

HEADER = "職員番号,姓,名,姓かな,名かな,メール,所属コード,職名,任用区分,状態,採用日\r\n"
GOOD = (
    HEADER
    + "200001,渡辺,恵子,わたなべ,けいこ,k-watanabe@city.example.jp,1002,主査,正職員,在職,2005/4/1\r\n"
    + "200002,髙橋,翔太,たかはし,しょうた,,4004,主事,会計年度任用,在職,2024-04-01\r\n"
)


def _count():
    return Staff.objects.count(), AuditEvent.objects.count()


def test_utf8_with_bom_imports_every_row(world):
    result = staff_import(actor="officer", data=b"\xef\xbb\xbf" + GOOD.encode(), filename="staff.csv")
    assert result.ok, result.errors
    assert (result.encoding, result.created, result.updated) == ("UTF-8", 2, 0)
    keiko = Staff.objects.get(employee_number="200001")
    assert (keiko.full_name, keiko.department, keiko.joined_on) == (
        "渡辺 恵子",
        world.gyokaku,
        date(2005, 4, 1),
    )
    assert Staff.objects.get(employee_number="200002").employment_category == "fiscal_year"
    summary = AuditEvent.objects.get(action="staff.import")
    assert summary.after["created"] == 2 and summary.after["filename"] == "staff.csv"


def test_utf8_without_bom_imports(world):
    assert staff_import(actor="o", data=GOOD.encode()).created == 2


def test_utf16_from_excel_unicode_text_imports(world):
    result = staff_import(actor="o", data=GOOD.encode("utf-16"))
    assert result.ok and result.encoding == "UTF-16" and result.created == 2
    assert Staff.objects.get(employee_number="200002").family_name == "髙橋"


def test_cp932_from_excel_is_detected(world):
    result = staff_import(actor="o", data=GOOD.encode("cp932"))
    assert result.ok and result.encoding == "CP932"
    assert Staff.objects.get(employee_number="200002").family_name == "髙橋"  # an IBM extension character


def test_english_header_aliases_work(world):
    data = "employee_number,family_name,given_name,department_code\n300001,森,茂,1004\n"
    assert staff_import(actor="o", data=data.encode()).created == 1


def test_malformed_cp932_file_gives_line_numbered_errors_and_imports_nothing(world):
    rows = (
        HEADER
        + "200001,渡辺,恵子,わたなべ,けいこ,,1002,主査,正職員,在職,2005/4/1\r\n"
        + "200003,小林,誠,こばやし,まこと,,X99,主事,正職員,在職,2010/4/1\r\n"
        + "200004,,聡,,,not-an-address,1002,主事,臨時,在職,2010/13/1\r\n"
        + "200001,重複,太郎,,,,1002,,,,\r\n"
    )
    before = _count()
    result = staff_import(actor="o", data=rows.encode("cp932"))
    assert not result.ok
    assert result.errors == [
        "3行目: 所属コード 'X99' が存在しません",
        "4行目: 姓 が空です",
        "4行目: メール 'not-an-address' はメールアドレスの形式ではありません",
        "4行目: 任用区分 '臨時' は 正職員・再任用・会計年度任用 のいずれかにしてください",
        "4行目: 採用日 '2010/13/1' は日付（例 2024-04-01）ではありません",
        "5行目: 職員番号 '200001' が2行目と重複しています",
    ]
    assert _count() == before


def test_undecodable_bytes_are_reported_by_line(world):
    data = GOOD.encode("cp932") + b"200009,\x82,\xff\xfe,,,,1002\r\n"
    result = staff_import(actor="o", data=data)
    assert result.errors == ["4行目: 文字コード CP932 (Shift_JIS) として読めない文字があります"]
    assert not Staff.objects.filter(employee_number__startswith="2000").exists()


def test_missing_required_columns_are_named(world):
    result = staff_import(actor="o", data="職員番号,姓\n1,山田\n".encode())
    assert result.errors == ["1行目: 必須の列 名、所属コード がありません"]


def test_empty_file_is_an_error(world):
    assert staff_import(actor="o", data=b"").errors == ["ファイルが空です（1行目に見出しが必要です）"]


def test_existing_staff_are_updated_and_a_department_change_is_a_transfer(world):
    staff_import(actor="o", data=GOOD.encode())
    moved = GOOD.replace("1002,主査", "1004,係長").replace("2005/4/1\r\n", "2005/4/1\r\n", 1)
    result = staff_import(actor="o", data=moved.encode(), today=date(2027, 4, 1))
    assert (result.created, result.updated, result.transferred, result.unchanged) == (0, 1, 1, 1)
    keiko = Staff.objects.get(employee_number="200001")
    assert (keiko.department, keiko.position) == (world.johou, "係長")
    transfer = StaffTransfer.objects.get(staff=keiko)
    assert (transfer.from_department, transfer.effective_date) == (world.gyokaku, date(2027, 4, 1))


def test_import_command_prints_errors_and_exits_1(world, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes((HEADER + "200003,小林,誠,,,,X99,,,,\r\n").encode("cp932"))
    with pytest.raises(CommandError) as exc:
        call_command("import", "staff", str(path))
    assert exc.value.returncode == 1 and "nothing was imported" in str(exc.value)
    assert "2行目: 所属コード 'X99' が存在しません" in capsys.readouterr().err
    assert not Staff.objects.filter(employee_number="200003").exists()


def test_import_command_imports_a_good_file(world, tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_bytes(GOOD.encode("cp932"))
    call_command("import", "staff", str(path))
    assert "2 rows (CP932): 2 created" in capsys.readouterr().out


def test_import_command_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.csv: No such file or directory"):
        call_command("import", "staff", str(tmp_path / "missing.csv"))


def test_an_unreadable_csv_is_refused_with_a_line_number(world):
    huge_field = '"' + "x" * 200_000 + '"'  # beyond the csv module's field size limit
    data = f"職員番号,姓,名,所属コード\n1,山田,太郎,1002\n2,{huge_field},花子,1002\n".encode()
    result = staff_import(actor="o", data=data)
    assert len(result.errors) == 1 and result.errors[0].startswith("3行目: CSVとして読めません")
    assert not Staff.objects.filter(employee_number="1").exists()


def test_a_nul_byte_in_a_value_is_refused_with_its_line_number(world):
    """SQLite would store it; PostgreSQL refuses the row with an internal error. Neither happens."""
    data = "職員番号,姓,名,所属コード\n500001,森,茂,1002\n500002,山\x00田,花子,1002\n".encode()
    result = staff_import(actor="o", data=data)
    assert result.errors == [
        "3行目: NUL文字（0x00）が含まれています。CSVのテキストとして保存し直してください"
    ]
    assert not Staff.objects.filter(employee_number__in=["500001", "500002"]).exists()


def _bad_lines(n: int) -> bytes:
    return ("職員番号,姓,名,所属コード\n" + "".join(f"{600000 + i},森,茂,X99\n" for i in range(n))).encode()


def test_many_bad_lines_give_the_first_100_messages_and_the_count(world):
    result = staff_import(actor="o", data=_bad_lines(1000))
    assert result.error_count == 1000 and len(result.errors) == 100 and result.errors_not_shown == 900
    assert result.errors[0] == "2行目: 所属コード 'X99' が存在しません"
    assert result.errors[-1] == "101行目: 所属コード 'X99' が存在しません"


def test_import_command_prints_the_first_100_errors_and_the_count(world, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(_bad_lines(1000))
    with pytest.raises(CommandError) as exc:
        call_command("import", "staff", str(path))
    assert str(exc.value) == f"{path}: 1,000 error(s); nothing was imported"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 101 and err[-1] == "... and 900 more"


# The preview: what an import would do, per person and per field, before anything is written.

RENAME_AND_MOVE = "職員番号,姓,名,所属コード,職名\n100001,田中,花子,4004,主査\n400001,鈴木,一郎,4004,主事\n"


def test_the_preview_shows_each_change_old_to_new_and_the_transfer_and_writes_nothing(world):
    before = _count()
    result = staff_import_preview(data=RENAME_AND_MOVE.encode())
    assert result.ok and _count() == before
    assert (result.created, result.updated, result.transferred, result.unchanged) == (0, 1, 1, 1)
    [change] = result.changes
    assert (change.line, change.employee_number, change.name) == (2, "100001", "佐藤 花子")
    assert FieldChange("姓", "佐藤", "田中") in change.fields
    assert FieldChange("職名", "主事", "主査") in change.fields
    assert change.transfer == FieldChange("所属", "総務部 行政改革課", "福祉部 子育て支援課")
    assert {f.label for f in change.fields} == {"姓", "職名"}  # unchanged fields are not listed


def test_the_preview_lists_creations_with_their_department(world):
    result = staff_import_preview(data=GOOD.encode())
    assert [(c.line, c.employee_number, c.name, c.department) for c in result.creations] == [
        (2, "200001", "渡辺 恵子", "総務部 行政改革課"),
        (3, "200002", "髙橋 翔太", "福祉部 子育て支援課"),
    ]


def test_a_number_stripped_of_its_leading_zeros_is_warned_about(world):
    StaffFactory(employee_number="000002", family_name="山田", given_name="太郎", department=world.gyokaku)
    data = "職員番号,姓,名,所属コード\n2,山田,太郎,1002\n"
    result = staff_import_preview(data=data.encode())
    assert result.ok and result.created == 1
    assert result.warnings == [
        "2行目: 職員番号 '2' は登録済みの '000002'（山田 太郎）の先頭の0が落ちたものかもしれません。"
        "このままでは別の職員として新規登録されます"
    ]


def test_a_short_number_in_a_zero_padded_register_is_warned_about(world):
    Staff.objects.all().delete()
    for number in ("000101", "000102", "010003"):
        StaffFactory(employee_number=number, department=world.gyokaku)
    data = "職員番号,姓,名,所属コード\n555,森,茂,1002\n000555,林,茂,1002\n"
    result = staff_import_preview(data=data.encode())
    assert result.warnings == [
        "2行目: 職員番号 '555' は登録済みの番号（6桁、先頭を0で埋める）より短く、先頭の0が落ちているかもしれません"
    ]


def test_unpadded_registers_and_known_numbers_raise_no_warning(world):
    """100001 / 400001 are not zero-padded: a new number 7 is just a new number."""
    data = "職員番号,姓,名,所属コード\n7,森,茂,1002\n100001,佐藤,花子,1002\n"
    assert staff_import_preview(data=data.encode()).warnings == []


def test_a_confirmation_imports_only_what_its_preview_showed(world):
    preview = staff_import_preview(data=RENAME_AND_MOVE.encode())
    Staff.objects.filter(employee_number="100001").update(position="課長")  # someone edits meanwhile
    before = _count()
    result = staff_import(actor="o", data=RENAME_AND_MOVE.encode(), expected_digest=preview.digest)
    assert result.errors == [str(PLAN_CHANGED)] and _count() == before
    [change] = result.changes  # the new preview comes back with the refusal
    assert FieldChange("職名", "課長", "主査") in change.fields
    result = staff_import(actor="o", data=RENAME_AND_MOVE.encode(), expected_digest=result.digest)
    assert result.ok and Staff.objects.get(employee_number="100001").family_name == "田中"


def test_a_different_file_does_not_match_the_preview(world):
    preview = staff_import_preview(data=RENAME_AND_MOVE.encode())
    other = RENAME_AND_MOVE.replace("田中", "中村").encode()
    assert staff_import(actor="o", data=other, expected_digest=preview.digest).errors == [str(PLAN_CHANGED)]


def test_import_command_dry_run_prints_the_preview_and_writes_nothing(world, tmp_path, capsys):
    path = tmp_path / "staff.csv"
    path.write_bytes((RENAME_AND_MOVE + "300001,森,茂,1004,\n").encode("cp932"))
    before = _count()
    call_command("import", "staff", str(path), "--dry-run")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "+ 300001 森 茂 — 総務部 情報政策課 (line 4)",
        "~ 100001 佐藤 花子 (line 2): 姓: 佐藤 → 田中; 職名: 主事 → 主査; 所属: 総務部 行政改革課 → 福祉部 子育て支援課",
        f"{path}: 3 rows (CP932): would be 1 created, 1 updated (1 transferred), 1 unchanged; dry run, nothing imported",
    ]
    assert _count() == before


def test_import_command_stops_on_a_warning_unless_accepted(world, tmp_path, capsys):
    StaffFactory(employee_number="000002", department=world.gyokaku)
    path = tmp_path / "staff.csv"
    path.write_bytes("職員番号,姓,名,所属コード\n2,山田,太郎,1002\n".encode())
    with pytest.raises(CommandError, match=r"1 warning\(s\); nothing was imported") as exc:
        call_command("import", "staff", str(path))
    assert exc.value.returncode == 1
    assert "warning: 2行目: 職員番号 '2' は登録済みの '000002'" in capsys.readouterr().err
    assert not Staff.objects.filter(employee_number="2").exists()
    call_command("import", "staff", str(path), "--accept-warnings")
    assert Staff.objects.filter(employee_number="2").exists()
