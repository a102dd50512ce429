"""A campaign as the tests write it: every placeholder, sent now, due in a week."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mamori.apps.awareness.services import CampaignData

SUBJECT = "【注意喚起】{市名}からのお知らせ（{年度}）"
BODY = "{氏名} 様（{所属}）\n\n不審なメールの添付ファイルは開かないでください。\n{確認期限}までに確認してください。"


def campaign_data(**overrides) -> CampaignData:
    now = timezone.now()
    values = {
        "subject": SUBJECT,
        "body": BODY,
        "send_at": now,
        "due_on": timezone.localdate() + timedelta(days=7),
    }
    return CampaignData(**(values | overrides))
