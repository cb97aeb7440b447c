from django.urls import reverse

AREAS = (
    "setup_years",
    "setup_classes",
    "setup_subjects",
    "setup_teachers",
    "setup_assignments",
    "setup_students",
)


def test_setup_home_links_every_area(setup_client, url):
    html = setup_client.get(url("setup")).content.decode()
    for area in AREAS:
        assert f'href="{url(area)}"' in html


def test_every_setup_page_has_the_setup_nav(setup_client, url):
    for area in AREAS:
        html = setup_client.get(url(area)).content.decode()
        assert 'id="setup-nav"' in html
        assert f'active" href="{url(area)}"' in html


def test_a_school_without_any_year_still_gets_every_list(setup_client, new_school):
    for area in AREAS:
        response = setup_client.get(reverse(f"schools:{area}", args=[new_school.code]))
        assert response.status_code == 200
    response = setup_client.get(reverse("schools:setup_class_create", args=[new_school.code]))
    assert response.url == reverse("schools:setup_years", args=[new_school.code])
