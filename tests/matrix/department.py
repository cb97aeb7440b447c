"""The Department's dashboard (docs/department.md): only an active member of the Department
reads it; no school persona is one, so every one of them gets a 404, like an outsider
(tests/department/ holds the member's own rows: 200 for its province, 404 elsewhere)."""

from tests.matrix import Row, everyone


def department(w: dict) -> dict:
    return {"code": w["school_a"].department_code}


def department_school(w: dict) -> dict:
    return {**department(w), "school_code": w["school_a"].code}


ROWS = [
    Row("department:dashboard", department, everyone(404)),
    Row("department:dashboard_xlsx", department, everyone(404)),
    Row("department:school", department_school, everyone(404)),
]
