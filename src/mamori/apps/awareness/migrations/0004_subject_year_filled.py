"""Campaign subjects carry their fiscal year written out (令和8年度) instead of the {年度} placeholder:
a subject is read outside any one notice (the audit log, the list, the KPI's evidence). The year is
the one the pages showed: the season's, else that of the day it was sent (or is to be sent)."""

from django.db import migrations
from django.utils import timezone

from mamori.apps.core.wareki import fiscal_year_of, format_fiscal_year

PLACEHOLDER = "{年度}"


def fill_year(apps, schema_editor):
    Campaign = apps.get_model("awareness", "Campaign")
    for campaign in Campaign.objects.filter(subject__contains=PLACEHOLDER):
        year = fiscal_year_of(timezone.localtime(campaign.sent_at or campaign.send_at).date())
        if campaign.season and not campaign.sent_at:
            year = campaign.season
        campaign.subject = campaign.subject.replace(PLACEHOLDER, format_fiscal_year(year))[:150]
        campaign.save(update_fields=["subject"])


class Migration(migrations.Migration):
    dependencies = [("awareness", "0003_japanese_labels")]

    operations = [migrations.RunPython(fill_year, migrations.RunPython.noop)]
