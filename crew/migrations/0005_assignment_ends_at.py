from datetime import timedelta

from django.db import migrations, models


def fill_ends_at(apps, schema_editor) -> None:
    Assignment = apps.get_model("crew", "Assignment")
    batch = []
    for assignment in Assignment.objects.only("pk", "call_at", "shift_minutes").iterator():
        assignment.ends_at = assignment.call_at + timedelta(minutes=assignment.shift_minutes)
        batch.append(assignment)
    Assignment.objects.bulk_update(batch, ["ends_at"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("crew", "0004_checklist_template_help"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="ends_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(fill_ends_at, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="assignment",
            name="ends_at",
            field=models.DateTimeField(editable=False),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                fields=["member", "call_at", "ends_at"], name="crew_assign_member__1fa3bb_idx"
            ),
        ),
    ]
