"""Subjects numbered 1, 2, 3… in the programme's order (docs/curriculum.md). The default
subjects used to take their position in the first grade that studied them, from 0, so that
orders repeated (primary: Ngoại ngữ 1, from grade 3, shared 2 with Đạo đức). A school whose
subjects have an order 0 or a repeated one is renumbered: the default subjects in the
programme's order, then its own in their former order. A school without either chose its
order: it is left as it is."""

from django.db import migrations

# The default subjects' codes in the programme's order, as schools/curriculum.py had them
# when this migration was written.
PRIMARY = ("TV", "TOAN", "NN1", "DD", "TNXH", "LSDL", "KH", "THCN", "GDTC", "AN", "MT", "HDTN")
LOWER = ("NV", "TOAN", "NN1", "GDCD", "LSDL", "KHTN", "CN", "TIN", "GDTC", "NT", "HDTN", "GDDP")
UPPER = ("NV", "TOAN", "NN1", "LS", "GDQPAN", "DL", "GDKTPL", "VL", "HH", "SH", "CN", "TIN",
         "AN", "MT", "GDTC", "HDTN", "GDDP")  # fmt: skip
CATALOGUES = {
    "primary": PRIMARY,
    "lower_secondary": LOWER,
    "upper_secondary": UPPER,
    "multi_level": PRIMARY + LOWER + UPPER,
    "continuing": LOWER + UPPER,
}


def renumber_subjects(apps, schema_editor) -> None:
    School = apps.get_model("schools", "School")
    Subject = apps.get_model("schools", "Subject")
    for school in School.objects.all():
        subjects = list(Subject.objects.filter(school=school))
        numbers = [s.order for s in subjects]
        if 0 not in numbers and len(set(numbers)) == len(numbers):
            continue
        position: dict[str, int] = {}
        for code in CATALOGUES.get(school.level, ()):
            position.setdefault(code, len(position))
        subjects.sort(key=lambda s: (position.get(s.code, len(position)), s.order, s.code))
        for number, subject in enumerate(subjects, start=1):
            subject.order = number
        Subject.objects.bulk_update(subjects, ["order"])


class Migration(migrations.Migration):
    dependencies = [
        ("schools", "0004_search_names"),
    ]

    operations = [
        migrations.RunPython(renumber_subjects, migrations.RunPython.noop, elidable=True),
    ]
