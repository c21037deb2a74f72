"""`/api/users/`: an integration turns the usernames the API shows into the ids it writes and filters by."""

import pytest

from contacts.models import Contact
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

USERS = "/api/users/"


def test_the_users_list_gives_each_active_users_id_and_roles(sales_api, sales_user, make_user):
    agent = make_user("support", username="ann.agent", first_name="Ann", last_name="Agent")
    make_user("manager", username="gone.manager", is_active=False)

    users = {user["username"]: user for user in sales_api.get(USERS).json()["results"]}

    assert set(users) == {"ann.agent", "sam.sales"}  # not the inactive account
    assert users["ann.agent"] == {
        "id": agent.pk,
        "username": "ann.agent",
        "name": "Ann Agent",
        "email": agent.email,
        "roles": ["support"],
    }
    assert users["sam.sales"]["roles"] == ["sales"]


def test_filtered_by_role_or_name_and_refusing_an_unknown_role(sales_api, make_user):
    make_user("support", username="ann.agent")
    make_user("sales", username="bo.seller", first_name="Bo")

    assert [user["username"] for user in sales_api.get(USERS, {"role": "support"}).json()["results"]] == ["ann.agent"]
    assert [user["username"] for user in sales_api.get(USERS, {"q": "bo.sel"}).json()["results"]] == ["bo.seller"]
    refused = sales_api.get(USERS, {"role": "boss"})
    assert refused.status_code == 400
    assert "role" in refused.json()


def test_the_id_found_by_username_is_the_one_owner_id_takes(sales_api, make_user):
    colleague = make_user("sales", username="bo.seller")
    contact = ContactFactory()

    found = sales_api.get(USERS, {"q": "bo.seller"}).json()["results"][0]["id"]
    response = sales_api.patch(f"/api/contacts/{contact.pk}/", {"owner_id": found}, format="json")

    assert response.status_code == 200
    assert response.json()["owner"] == "bo.seller"
    assert Contact.objects.get(pk=contact.pk).owner == colleague


def test_the_users_list_takes_the_same_queries_for_3_or_30_users(sales_api, make_user, django_assert_max_num_queries):
    for number in range(3):
        make_user("sales", username=f"seller.{number}")
    with django_assert_max_num_queries(6) as three:
        sales_api.get(USERS)

    for number in range(3, 30):
        make_user("support" if number % 2 else "manager", username=f"user.{number}")
    with django_assert_max_num_queries(len(three)):
        response = sales_api.get(USERS)

    assert len(response.json()["results"]) == 31  # and the caller
