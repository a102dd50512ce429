"""Dump sources come from server-side profiles: an existing command line is kept (never run, never
shown) as `legacy_command`, and its source becomes a dump source without a profile (needs one)."""

from django.db import migrations, models


def command_sources_need_a_profile(apps, schema_editor):
    Source = apps.get_model("backups", "Source")
    Source.objects.filter(kind="command").update(kind="dump", profile="")


def back_to_commands(apps, schema_editor):
    Source = apps.get_model("backups", "Source")
    Source.objects.filter(kind="dump", profile="").update(kind="command")


class Migration(migrations.Migration):
    dependencies = [("backups", "0002_alert_message_key")]

    operations = [
        migrations.RenameField(model_name="source", old_name="command", new_name="legacy_command"),
        migrations.AlterField(
            model_name="source",
            name="legacy_command",
            field=models.CharField(blank=True, editable=False, max_length=500),
        ),
        migrations.AddField(
            model_name="source",
            name="parameters",
            field=models.JSONField(blank=True, default=dict, verbose_name="プロファイルのパラメータ"),
        ),
        migrations.AddField(
            model_name="source",
            name="profile",
            field=models.CharField(blank=True, max_length=40, verbose_name="ダンププロファイル"),
        ),
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(
                choices=[
                    ("path", "フォルダ・ファイル"),
                    ("dump", "ダンプ（サーバ側のプロファイル）"),
                    ("sqlite", "SQLiteデータベース"),
                ],
                default="path",
                max_length=10,
                verbose_name="種類",
            ),
        ),
        migrations.RunPython(command_sources_need_a_profile, back_to_commands),
    ]
