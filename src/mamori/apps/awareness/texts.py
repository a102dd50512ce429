"""Campaign texts: named placeholders filled in by plain substitution, and the built-in seasons.

A campaign's subject and body are written by an officer and sent to a thousand people, so they are
never run as code: `{市名}`-style placeholders from a fixed list are replaced with plain text, and any
other `{...}` (a typo, `{{ settings.SECRET_KEY }}`, `{0.__class__}`) is refused when the campaign is
saved. No template engine and no `str.format` ever see the officer's text.

The built-in seasons (`season_schedule`): the transfer season on 1 April (人事異動, the next weekday
when it falls on a weekend), two weeks to acknowledge, for the staff moved by a transfer effective
from 1 April of that fiscal year (the 定期人事異動); the year-end notice on 20 December (the
weekday before when on a weekend), to be acknowledged by 27 December, before the offices close.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.wareki import format_fiscal_year

from .errors import AwarenessError
from .models import CampaignKind

PLACEHOLDERS = ("市名", "氏名", "所属", "確認期限", "配信日", "年度")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_STRAY_BRACE = re.compile(r"[{}]")
MSG_UNKNOWN_PLACEHOLDER = _(
    "差し込み項目 %(found)s は使えません。使えるのは %(known)s です（波かっこはこの用途にだけ使えます）。"
)


def placeholders_check(text: str) -> None:
    """Refuse a text with anything in braces that is not a known placeholder, or a lone brace."""
    unknown = [m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group(1) not in PLACEHOLDERS]
    if not unknown and _STRAY_BRACE.search(_PLACEHOLDER.sub("", text)):
        unknown = ["{ }"]
    if unknown:
        raise AwarenessError(
            MSG_UNKNOWN_PLACEHOLDER
            % {
                "found": "、".join(dict.fromkeys(unknown)),
                "known": "、".join(f"{{{p}}}" for p in PLACEHOLDERS),
            },
            code="unknown_placeholder",
        )


def render(text: str, values: dict[str, str]) -> str:
    """The text with each known placeholder replaced by its value (as plain text, inserted once)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def subject_with_year(subject: str, fiscal_year: int) -> str:
    """The subject with {年度} written out (令和8年度), as it is saved: a subject is read outside any
    one notice — in the audit log, the campaign list, the KPI's evidence — so it carries its year."""
    return subject.replace("{年度}", format_fiscal_year(fiscal_year))


def values_for(
    *, city: str, due_on: date, send_on: date, fiscal_year: int, name: str = "", department: str = ""
) -> dict[str, str]:
    return {
        "市名": city,
        "氏名": name,
        "所属": department,
        "確認期限": f"{due_on.month}月{due_on.day}日",
        "配信日": f"{send_on.month}月{send_on.day}日",
        "年度": format_fiscal_year(fiscal_year),
    }


TRANSFER_SUBJECT = "【注意喚起】人事異動期の情報セキュリティ（{年度}）"
TRANSFER_BODY = """{氏名} 様

{市名} 情報セキュリティ担当です。4月の人事異動の時期は、引継ぎや席の移動で情報の紛失・誤送付が起きやすくなります。次の点を確かめてください。

1. 引継ぎ資料に個人情報を含めるときは必要な範囲に限り、庁内の共有フォルダで渡してください。USBメモリや私物の記録媒体は使いません。
2. 前の所属のフォルダや業務システムの権限が異動後に要らなければ、削除を依頼してください。
3. 机やキャビネットの書類は、要らないものをシュレッダーか溶解処理へ。個人情報を含む書類を残したまま移動しないでください。
4. 異動先の決まり（持ち出し、メール・FAXの送信前の確認など）を所属長に確かめてください。
5. 異動のあいさつを装ったメールや、パスワードを尋ねるメールに注意してください。

読み終えたら、{確認期限}までに「確認しました」を押してください。
"""

YEAR_END_SUBJECT = "【注意喚起】年末年始の休暇前の情報セキュリティ（{年度}）"
YEAR_END_BODY = """{氏名} 様

{市名} 情報セキュリティ担当です。年末年始の休暇の前に、次の点を確かめてください。

1. 業務用の端末・USBメモリ・書類は庁外へ持ち出さないでください。やむを得ないときは所属長の許可を得てください。
2. 休暇明けはメールを開く前に、端末の更新（Windows Update、ウイルス対策ソフトの定義ファイル）を済ませてください。
3. 宅配業者や年末の請求を装ったメール・SMSのリンクや添付ファイルは開かないでください。
4. 書類は施錠して保管し、端末はシャットダウンしてから帰ってください。
5. 休暇中に紛失や不審なことに気づいたら、すぐに情報セキュリティ担当へ連絡してください。

読み終えたら、{確認期限}までに「確認しました」を押してください。
"""

TEXTS = {
    CampaignKind.TRANSFER: (TRANSFER_SUBJECT, TRANSFER_BODY),
    CampaignKind.YEAR_END: (YEAR_END_SUBJECT, YEAR_END_BODY),
}
SEND_TIME = time(9, 0)


@dataclass(frozen=True)
class Season:
    kind: str
    fiscal_year: int
    send_at: datetime
    due_on: date
    #: the transfer season's audience: staff with a transfer effective on or after this day
    movers_since: date | None = None


def _weekday(d: date, step: int) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=step)
    return d


def season_schedule(kind: str, fiscal_year: int) -> Season:
    """When a built-in season's campaign is sent and by when it is to be acknowledged."""
    zone = ZoneInfo(settings.TIME_ZONE)
    if kind == CampaignKind.TRANSFER:
        send_on = _weekday(date(fiscal_year, 4, 1), +1)
        due_on = send_on + timedelta(days=14)
    elif kind == CampaignKind.YEAR_END:
        send_on = _weekday(date(fiscal_year, 12, 20), -1)
        due_on = _weekday(date(fiscal_year, 12, 27), -1)
    else:
        raise ValueError(kind)
    movers_since = date(fiscal_year, 4, 1) if kind == CampaignKind.TRANSFER else None
    return Season(kind, fiscal_year, datetime.combine(send_on, SEND_TIME, zone), due_on, movers_since)
