"""The `immutable` label is about to go: keep `immutable_days` (what the officer asked for) only where
the label was set. A migration of its own: PostgreSQL refuses to alter a table with pending trigger
events from an update in the same transaction."""

from django.db import migrations


def keep_days_only_where_labelled(apps, schema_editor):  # type: ignore[no-untyped-def]
    Repository = apps.get_model("backups", "Repository")
    Repository.objects.filter(immutable=False).update(immutable_days=0)


class Migration(migrations.Migration):
    dependencies = [("backups", "0004_self_backup")]

    operations = [migrations.RunPython(keep_days_only_where_labelled, migrations.RunPython.noop)]
