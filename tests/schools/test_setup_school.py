"""The school's details page: the admin sets what the transcripts print about the school."""

import pytest

from schools.models import School


def test_admin_sets_the_place_name_printed_on_transcripts(setup_client, url, world):
    data = {"address": "Số 1 Hoàng Diệu", "province": "Hà Nội", "place_name": "Quận Ba Đình"}
    response = setup_client.post(url("setup_school"), data)
    assert response.status_code == 302
    school = world["school_a"]
    school.refresh_from_db()
    assert (school.address, school.province, school.place_name) == (
        "Số 1 Hoàng Diệu",
        "Hà Nội",
        "Quận Ba Đình",
    )
    assert school.name == "Trường THCS Ánh Dương"  # the name and codes are not edited here


def test_the_page_shows_the_current_values_and_the_setup_nav(setup_client, url, world):
    School.objects.filter(pk=world["school_a"].pk).update(place_name="Hà Nội")
    html = setup_client.get(url("setup_school")).content.decode()
    assert 'name="place_name"' in html and 'value="Hà Nội"' in html
    assert f'active" href="{url("setup_school")}"' in html
    assert f'href="{url("setup_school")}"' in setup_client.get(url("setup")).content.decode()


def test_a_principal_without_the_admin_role_may_not_change_it(client, url, world):
    client.force_login(world["users"]["principal"])
    response = client.post(url("setup_school"), {"place_name": "Nơi khác"})
    assert response.status_code == 403
    world["school_a"].refresh_from_db()
    assert world["school_a"].place_name == ""


# A form cannot send a lone surrogate (the browser encodes UTF-8); JSON can (test_grid_save).
@pytest.mark.parametrize("text", ["Số 1\x00", "Số 1\x07", "Số\x85 1"])
def test_a_control_character_in_the_details_is_refused(english, setup_client, url, world, text):
    data = {"address": text, "province": "Hà Nội", "place_name": "Quận Ba Đình"}
    response = setup_client.post(url("setup_school"), data)
    assert response.status_code == 200
    assert "cannot be stored" in str(response.context["form"].errors["address"])
    world["school_a"].refresh_from_db()
    assert world["school_a"].address != text


def test_a_multi_line_text_keeps_its_line_breaks(setup_client, url, world):
    data = {"address": "Số 1\r\nHoàng Diệu\tBa Đình", "province": "Hà Nội", "place_name": "X"}
    assert setup_client.post(url("setup_school"), data).status_code == 302
