# Two confirmed bookings on one vessel may not overlap, turnaround included. On PostgreSQL an
# exclusion constraint holds it under concurrency; elsewhere (SQLite) this is a no-op and
# bookings.vessels checks inside its transaction.
# (A migration of its own: PostgreSQL refuses ALTER TABLE with 0005's data updates pending.)

import django.db.models.deletion
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

CONSTRAINT = "booking_vessel_no_overlap"


def _constraint():
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
    from django.db.models import Func, Q

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return ExclusionConstraint(
        name=CONSTRAINT,
        expressions=[
            ("vessel", RangeOperators.EQUAL),
            (TsTzRange("starts_at", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
        ],
        condition=Q(status="confirmed"),
    )


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_constraint(apps.get_model("bookings", "Booking"), _constraint())


def remove_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_constraint(apps.get_model("bookings", "Booking"), _constraint())


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0005_vessels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='booking',
            name='blocked_until',
            field=models.DateTimeField(editable=False),
        ),
        migrations.AlterField(
            model_name='booking',
            name='vessel',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='bookings.vessel'),
        ),
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, remove_constraint),
    ]
