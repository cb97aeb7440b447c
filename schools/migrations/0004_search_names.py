"""Student.search_name: the full name without diacritics or case, which the students' search
box matches ("nguyen" finds Nguyễn), filled here for the students already stored."""

from django.db import migrations, models

from config.text import search_folded

BATCH = 1000


def fill_search_names(apps, schema_editor) -> None:
    Student = apps.get_model("schools", "Student")
    changed = []
    for student in Student.objects.only("pk", "full_name", "search_name").iterator():
        folded = search_folded(student.full_name)
        if student.search_name != folded:
            student.search_name = folded
            changed.append(student)
    for start in range(0, len(changed), BATCH):
        Student.objects.bulk_update(changed[start : start + BATCH], ["search_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("schools", "0003_staff_invitations"),
    ]

    operations = [
        migrations.AddField(
            model_name="student",
            name="search_name",
            field=models.CharField(default="", editable=False, max_length=150),
        ),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop, elidable=True),
    ]
