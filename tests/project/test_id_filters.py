"""A record's id in a list's filter is a whole number a database key can hold: a longer one (a typo, a probe)
is the filter's message on a page and a 400 from the API, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

TOO_LONG = "99999999999999999999999"
PAST_64_BITS = str(2**63)

API_LISTS = [
    "/api/deals/?contact={}",
    "/api/orders/?contact={}",
    "/api/orders/?deal={}",
    "/api/subscriptions/?contact={}",
    "/api/contacts/?company={}",
]
PAGES = [
    ("/deals/?owner=&contact={}", "contact"),
    ("/orders/?contact={}", "contact"),
    ("/subscriptions/?contact={}", "contact"),
    ("/contacts/?company={}", "company"),
    ("/tickets/?contact={}", "contact"),
]


@pytest.fixture
def admin_api(api_client, make_user):
    api_client.force_authenticate(make_user("admin"))
    return api_client


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("admin"))
    return client


@pytest.mark.parametrize("url", API_LISTS)
@pytest.mark.parametrize("value", [TOO_LONG, PAST_64_BITS, "0", "-3"])
def test_the_api_answers_400_naming_the_filter(admin_api, url, value):
    response = admin_api.get(url.format(value))

    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert list(response.json()) == [name]


@pytest.mark.parametrize(("url", "name"), PAGES)
def test_a_page_shows_the_filter_message_and_no_rows(admin_client, url, name):
    response = admin_client.get(url.format(TOO_LONG))

    assert response.status_code == 200
    assert name in response.context["filter"].form.errors
    assert list(response.context["object_list"]) == []


def test_the_largest_id_a_key_holds_is_a_plain_filter_that_finds_nothing(admin_api):
    response = admin_api.get(f"/api/orders/?contact={2**63 - 1}")

    assert response.status_code == 200
    assert response.json()["results"] == []
