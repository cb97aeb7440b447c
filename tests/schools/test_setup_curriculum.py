import pytest
from django.core.exceptions import ValidationError

from gradebook.curriculum import regular_marks_per_term
from schools.models import Assessment, CurriculumEntry, Subject
from schools.setup_services import add_curriculum_entry

ENTRY = {
    "periods_per_year": 35,
    "assessment": Assessment.SCORE,
    "regular_marks_override": "",
    "periodic_test": "",
    "midterm_test": "",
}


def test_admin_creates_a_subject_with_an_upper_case_code(setup_client, url, world):
    data = {"code": "gdđp", "name": "Giáo dục địa phương", "name_en": "", "order": 20}
    response = setup_client.post(url("setup_subject_create"), data)
    assert response.status_code == 302
    assert world["school_a"].subjects.get(code="GDĐP").order == 20


def test_subject_code_is_unique_per_school_not_globally(setup_client, url, world):
    data = {"code": "toan", "name": "Toán 2", "name_en": "", "order": 1}
    response = setup_client.post(url("setup_subject_create"), data)
    assert "code" in response.context["form"].errors
    assert world["school_b"].subjects.filter(code="TOAN").exists()  # no clash across schools


def test_curriculum_page_lists_one_grade_with_derived_regular_marks(setup_client, url, world):
    year = world["school_a"].current_year()
    response = setup_client.get(url("setup_curriculum", pk=year.pk), {"grade": 7})
    rows = {r.record.subject.code: r for r in response.context["table"].rows}
    assert {r.record.grade for r in rows.values()} == {7}
    assert rows["TOAN"].get_cell("regular_marks") == 4  # 140 periods a year → 4 marks a term
    assert rows["GDCD"].get_cell("regular_marks") == 2  # 35 periods a year → 2


def test_override_replaces_the_derived_regular_mark_count(setup_client, url, world):
    entry = world["school_a"].current_year().curriculum.get(grade=6, subject__code="GDCD")
    data = {**ENTRY, "regular_marks_override": 3}
    response = setup_client.post(url("setup_curriculum_entry_edit", pk=entry.pk), data)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert regular_marks_per_term(entry) == 3


def test_primary_assessment_is_refused_for_a_secondary_grade(setup_client, url, world):
    entry = world["school_a"].current_year().curriculum.get(grade=6, subject__code="GDCD")
    data = {**ENTRY, "assessment": Assessment.PRIMARY}
    response = setup_client.post(url("setup_curriculum_entry_edit", pk=entry.pk), data)
    assert "assessment" in response.context["form"].errors


def test_admin_adds_a_subject_to_a_grade(setup_client, url, world):
    year = world["school_a"].current_year()
    local = Subject.objects.create(school=world["school_a"], code="GDĐP", name="GDĐP")
    data = {**ENTRY, "grade": 8, "subject": local.pk}
    response = setup_client.post(url("setup_curriculum_entry_create", pk=year.pk), data)
    assert response.status_code == 302
    assert year.curriculum.get(subject=local).grade == 8


def test_a_subject_is_added_to_a_grade_only_once(world):
    year = world["school_a"].current_year()
    with pytest.raises(ValidationError) as error:
        add_curriculum_entry(
            year=year,
            grade=6,
            subject=world["school_a"].subjects.get(code="TOAN"),
            periods_per_year=140,
            assessment=Assessment.SCORE,
            regular_marks_override=None,
            periodic_test=False,
            midterm_test=False,
        )
    assert "subject" in error.value.error_dict


def test_another_schools_subject_cannot_join_the_curriculum(setup_client, url, world):
    year = world["school_a"].current_year()
    foreign = world["school_b"].subjects.get(code="TOAN")
    data = {**ENTRY, "grade": 6, "subject": foreign.pk}
    response = setup_client.post(url("setup_curriculum_entry_create", pk=year.pk), data)
    assert "subject" in response.context["form"].errors
    assert not CurriculumEntry.objects.filter(year=year, subject=foreign).exists()


def test_loading_programme_defaults_restores_missing_entries_only(setup_client, url, world):
    year = world["school_a"].current_year()
    year.curriculum.filter(grade=9, subject__code="TIN").delete()
    edited = year.curriculum.get(grade=6, subject__code="TOAN")
    edited.periods_per_year = 150
    edited.save()
    setup_client.post(url("setup_curriculum_load_defaults", pk=year.pk))
    assert year.curriculum.filter(grade=9, subject__code="TIN").exists()
    edited.refresh_from_db()
    assert edited.periods_per_year == 150
