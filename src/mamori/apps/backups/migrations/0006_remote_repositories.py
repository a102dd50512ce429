"""Remote repositories: encrypted secrets, SSH host keys, and the Object Lock facts read back from the
server. A job kind extends the locks. The `immutable` label goes: a repository counts as immutable
only by those facts."""

from django.db import migrations, models


JOB_KINDS = [
    ("backup", "バックアップ"),
    ("offsite_copy", "遠隔地コピー"),
    ("check_subset", "整合性検査"),
    ("forget_prune", "世代整理"),
    ("restore_drill", "復元訓練"),
    ("restore", "復元"),
    ("extend_locks", "改ざん防止ロックの延長"),
]


class Migration(migrations.Migration):
    dependencies = [("backups", "0005_immutable_days_where_labelled")]

    operations = [
        migrations.AlterField(
            model_name="run",
            name="kind",
            field=models.CharField(
                choices=JOB_KINDS,
                max_length=20,
                verbose_name="ジョブ",
            ),
        ),
        migrations.AlterField(
            model_name="schedule",
            name="kind",
            field=models.CharField(
                choices=[k for k in JOB_KINDS if k[0] != "restore"],
                max_length=20,
                verbose_name="ジョブ",
            ),
        ),
        migrations.RemoveField(model_name="repository", name="immutable"),
        migrations.AlterField(
            model_name="repository",
            name="immutable_days",
            field=models.PositiveIntegerField(
                default=0, verbose_name="改ざん防止の保持日数（S3 Object Lock、0は使わない）"
            ),
        ),
        migrations.AddField(
            model_name="repository",
            name="secrets_encrypted",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="repository",
            name="known_hosts",
            field=models.TextField(blank=True, default="", verbose_name="SSHホスト鍵（known_hosts の行）"),
        ),
        migrations.AddField(
            model_name="repository",
            name="lock_mode",
            field=models.CharField(blank=True, default="", editable=False, max_length=12),
        ),
        migrations.AddField(
            model_name="repository",
            name="lock_snapshot",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="repository",
            name="lock_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="repository",
            name="lock_read_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
