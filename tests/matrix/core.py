from tests.matrix import Row, everyone, school_a

ROWS = [
    Row("home", lambda w: {}, everyone(302)),  # one school each: straight to its dashboard
    Row("schools:dashboard", school_a, everyone(200, outsider=404)),
    Row(
        "schools:class_detail",
        lambda w: {**school_a(w), "pk": w["class_a"].pk},
        everyone(200, outsider=404),
        label="own class",
    ),
    Row(
        "schools:class_detail",
        lambda w: {**school_a(w), "pk": w["class_a2"].pk},
        everyone(200, teacher=403, homeroom=403, outsider=404),
        label="class not taught",
    ),
    Row(
        "schools:class_detail",
        lambda w: {**school_a(w), "pk": w["class_b"].pk},
        everyone(404),
        label="other school's class in URL of school A",
    ),
]
ROWS.append(Row("schools:setup", school_a, everyone(403, admin=200, outsider=404)))
