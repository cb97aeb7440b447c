"""The cluster test's data, written into the cluster's database (run as a program, with the
cluster's DATABASE_URL and SECRET_KEY): a school with one class of two students, a Mathematics
teacher, and a homeroom teacher with a two-factor authenticator and a PKCS#12 signing
credential (the file given as argv[1], password argv[2]); one student's year is complete, so
their transcript can be confirmed and signed. Prints what the test needs as JSON.

    python tests/cluster/seed.py CREDENTIAL.p12 PASSWORD
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from gradebook.columns import subject_columns  # noqa: E402
from schools.models import ClassGroup, TeachingAssignment  # noqa: E402
from tests.conftest import add_students, make_school  # noqa: E402
from tests.transcripts.conftest import complete_year  # noqa: E402
from transcripts.models import CredentialKind, SigningCredential  # noqa: E402
from transcripts.signing.signers import encrypt_at_rest  # noqa: E402


def user(username: str, school, password: str, *, totp: str = "") -> User:
    person = User.objects.create_user(username=username, password=password, full_name=username)
    person.memberships.create(school=school, role=Role.TEACHER)
    if totp:
        TOTP.activate(person, totp)
    return person


def main() -> None:
    p12, password = Path(sys.argv[1]).read_bytes(), sys.argv[2]
    secret = generate_totp_secret()
    with transaction.atomic():
        school = make_school("CLUSTER", "Trường THCS Cụm Máy")
        teacher = user("cl.teacher", school, password)
        homeroom = user("cl.homeroom", school, password, totp=secret)
        class_group = ClassGroup.objects.create(
            year=school.current_year(), name="6C1", grade=6, homeroom_teacher=homeroom
        )
        maths = school.subjects.get(code="TOAN")
        TeachingAssignment.objects.create(teacher=teacher, class_group=class_group, subject=maths)
        students = add_students(class_group, [("Lê Thu Cúc", "F"), ("Phan Văn Máy", "M")], 700)
        complete_year(class_group, students[0])
        SigningCredential.objects.create(
            school=school,
            user=homeroom,
            kind=CredentialKind.PKCS12,
            pkcs12_encrypted=encrypt_at_rest(p12),
        )
    entry = class_group.year.curriculum.get(grade=class_group.grade, subject=maths)
    columns = [c.key for c in subject_columns(entry, 1) if c.value_type == "score"]
    args = {"code": school.code, "class_pk": class_group.pk, "subject_pk": maths.pk}
    print(
        json.dumps(
            {
                "teacher": {"username": teacher.username, "pk": teacher.pk},
                "homeroom": {"username": homeroom.username, "pk": homeroom.pk, "totp": secret},
                "students": [s.pk for s in students],
                "columns": columns,
                "cell_save": reverse("gradebook:cell_save", kwargs=args),
                "class_job": reverse("hocba:class_job", args=[school.code, class_group.pk]),
                "download": reverse("hocba:download", args=[school.code, 987654, 123456, "pdf"]),
            }
        )
    )


if __name__ == "__main__":
    main()
