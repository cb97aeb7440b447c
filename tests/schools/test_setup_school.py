"""The school's details page: the admin sets what the transcripts print about the school."""

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
