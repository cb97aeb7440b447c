"""The school admin's gradebook settings and comment bank."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from gradebook.models import CommentPhrase, GradebookSettings
from gradebook.rules import AdjustmentPolicy, FewSubjectsPolicy
from gradebook.settings_services import check_placeholders

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def url(name, *args):
    return reverse(f"gradebook:{name}", args=["SCHOOLA", *args])


def settings_data(**overrides):
    data = {
        "comment_max_length": "250",
        "adjustment": "scored_subjects_only",
        "few_scored_subjects": "literal_six",
        "reassessment_entered_by": "homeroom_teacher",
    }
    return {**data, **overrides}


def test_settings_page_explains_the_regulation_decisions(admin_client):
    page = admin_client.get(url("settings")).content.decode()
    assert "Article 9, clause 3" in page
    assert page.count("docs/regulations.md#") == 2


def test_admin_changes_the_settings_and_the_rules_follow(admin_client, school_a):
    response = admin_client.post(url("settings"), settings_data())
    assert response.status_code == 302
    saved = GradebookSettings.objects.get(school=school_a)
    assert saved.comment_max_length == 250
    assert saved.rules_options.adjustment is AdjustmentPolicy.SCORED_SUBJECTS_ONLY
    assert saved.rules_options.few_scored_subjects is FewSubjectsPolicy.LITERAL_SIX
    assert saved.reassessment_entered_by == "homeroom_teacher"


@pytest.mark.parametrize("length", ["19", "2001", "abc"])
def test_comment_limit_out_of_range_is_refused(admin_client, school_a, length):
    response = admin_client.post(url("settings"), settings_data(comment_max_length=length))
    assert response.status_code == 200
    assert response.context["form"].errors["comment_max_length"]
    assert not GradebookSettings.objects.filter(school=school_a).exists()


def test_unknown_reassessment_entry_is_refused(admin_client, school_a):
    response = admin_client.post(url("settings"), settings_data(reassessment_entered_by="anyone"))
    assert response.context["form"].errors["reassessment_entered_by"]
    assert not GradebookSettings.objects.filter(school=school_a).exists()


def test_unknown_policy_is_refused(admin_client, school_a):
    response = admin_client.post(url("settings"), settings_data(adjustment="never"))
    assert response.context["form"].errors["adjustment"]


@pytest.mark.parametrize("persona", ["teacher", "homeroom", "principal"])
def test_only_the_school_admin_reaches_the_settings(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(url("settings"), settings_data()).status_code == 403
    assert client.get(url("comment_bank")).status_code == 403


def test_admin_adds_edits_and_removes_a_phrase(admin_client, school_a):
    maths = school_a.subjects.get(code="TOAN")
    data = {"subject": maths.pk, "level": "T", "text": " {name}  tính toán nhanh. "}
    assert admin_client.post(url("comment_phrase_create"), data).status_code == 302
    phrase = CommentPhrase.objects.get(school=school_a)
    assert (phrase.subject, phrase.level, phrase.text) == (maths, "T", "{name} tính toán nhanh.")
    assert "{name} tính toán nhanh." in admin_client.get(url("comment_bank")).content.decode()
    edit = {"subject": "", "level": "", "text": "{name} chăm chỉ."}
    admin_client.post(url("comment_phrase_edit", phrase.pk), edit)
    phrase.refresh_from_db()
    assert (phrase.subject, phrase.level, phrase.text) == (None, "", "{name} chăm chỉ.")
    admin_client.post(url("comment_phrase_delete", phrase.pk))
    assert not CommentPhrase.objects.exists()


def test_comment_bank_filters_by_subject(admin_client, school_a):
    maths, literature = (school_a.subjects.get(code=c) for c in ("TOAN", "NV"))
    CommentPhrase.objects.create(school=school_a, subject=maths, text="Giải toán tốt.")
    CommentPhrase.objects.create(school=school_a, subject=literature, text="Viết văn hay.")
    page = admin_client.get(url("comment_bank"), {"subject": maths.pk}).content.decode()
    assert "Giải toán tốt." in page
    assert "Viết văn hay." not in page


@pytest.mark.parametrize(
    "text", ["{ten} học tốt.", "{Name} học tốt.", "{ name } học tốt.", "{name học tốt.",
             "Học tốt }", "{{name}} học tốt.", "{} học tốt."],
)  # fmt: skip
def test_only_the_name_placeholder_is_allowed(admin_client, school_a, text):
    response = admin_client.post(url("comment_phrase_create"), {"text": text})
    assert response.context["form"].errors["text"]
    assert not CommentPhrase.objects.exists()


@pytest.mark.parametrize("text", ["{name} học tốt.", "Học tốt.", "{name} và {name}."])
def test_valid_phrases_pass_the_placeholder_check(text):
    check_placeholders(text)


def test_placeholder_error_names_the_wrong_placeholder():
    with pytest.raises(ValidationError) as error:
        check_placeholders("{ten} học tốt, {lop} ngoan.")
    assert "{ten}, {lop}" in error.value.messages[0]


def test_a_phrase_longer_than_the_comment_limit_is_refused(admin_client, school_a):
    GradebookSettings.objects.create(school=school_a, comment_max_length=20)
    response = admin_client.post(url("comment_phrase_create"), {"text": "{name} " + "a" * 30})
    assert "comment limit" in response.context["form"].errors["text"][0]


def test_another_schools_subject_cannot_be_chosen(admin_client, school_b):
    foreign = school_b.subjects.get(code="TOAN")
    response = admin_client.post(url("comment_phrase_create"), {"subject": foreign.pk, "text": "x"})
    assert response.context["form"].errors["subject"]


def test_setup_home_links_to_the_gradebook_settings(admin_client):
    page = admin_client.get(reverse("schools:setup", args=["SCHOOLA"])).content.decode()
    assert url("settings") in page


@pytest.mark.parametrize("text", ["{name} ngoan\x07.", "{name}\x1b ngoan."])
def test_a_phrase_with_a_control_character_is_refused(admin_client, school_a, text):
    response = admin_client.post(url("comment_phrase_create"), {"text": text})
    assert "cannot be stored" in str(response.context["form"].errors["text"])
    assert not CommentPhrase.objects.exists()
