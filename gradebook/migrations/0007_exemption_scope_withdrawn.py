from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gradebook", "0006_summer_reassessment_entered_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="exemption",
            name="scope",
            field=models.CharField(
                choices=[("whole", "The whole subject"), ("partial", "Part of the subject")],
                default="whole",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="exemption",
            name="part",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="exemption",
            name="withdrawn_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="exemption",
            name="state",
            field=models.CharField(
                choices=[
                    ("requested", "Waiting for the principal"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="requested",
                max_length=10,
            ),
        ),
    ]
