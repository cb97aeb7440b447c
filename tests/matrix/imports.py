from tests.matrix import Row, everyone, school_a

ADMIN_ONLY = everyone(403, admin=200, outsider=404)

ROWS = [
    Row("schools:roster_import", school_a, ADMIN_ONLY),
    Row("schools:roster_import", school_a, ADMIN_ONLY, label="empty form", method="POST"),
    *(
        Row(
            "schools:roster_template",
            lambda w, kind=kind: {**school_a(w), "kind": kind},
            ADMIN_ONLY,
            label=kind,
        )
        for kind in ("students", "assignments", "teachers")
    ),
    Row(
        "schools:roster_template",
        lambda w: {**school_a(w), "kind": "grades"},
        everyone(403, admin=404, outsider=404),
        label="unknown kind",
    ),
]
