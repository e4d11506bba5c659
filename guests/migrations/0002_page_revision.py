from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="guestpage",
            name="facts_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="guestpage",
            name="revision",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
