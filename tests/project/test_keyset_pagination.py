"""Lists are paged by keyset: every row once and in order with every ordering, cursors that cannot be forged, and a
deep page that costs the queries of the first one, on every list page and every API list."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from crm_project.pagination import ApiPagination
from crm_project.views_mixins import FilteredListView
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.paging import PREVIOUS_LINK, page_link, walk_api, walk_pages
from tests.project.test_list_exports import API_CASES, PAGE_CASES, rows_made
from tests.sales.factories import OrderFactory

CONTACTS = "/api/contacts/"
ORDERS = "/api/orders/"
CONTACT_ORDERINGS = ["name", "-name", "email", "-email", "company", "-company", "created", "-created",
                     "customer_since", "-customer_since"]  # fmt: skip


@pytest.fixture
def contacts_that_tie():
    """Contacts sharing names, e-mails, companies and times, some without a company or a customer_since (NULLs)."""
    moment = timezone.now() - datetime.timedelta(days=3)
    acme, globex = CompanyFactory(name="Acme"), CompanyFactory(name="Globex")
    contacts = []
    for number in range(13):
        contacts.append(
            ContactFactory(
                last_name=["Smith", "Jones", "Smith"][number % 3],
                first_name=["Ada", "Bo"][number % 2],
                email="" if number % 3 == 0 else f"person{number}@example.com",
                company=[acme, None, globex][number % 3],
                created_at=moment + datetime.timedelta(hours=number % 2),
                customer_since=None if number % 4 == 0 else moment - datetime.timedelta(days=number % 3),
            )
        )
    return contacts


def listed_ids(bodies: list[dict]) -> list[int]:
    return [row["id"] for body in bodies for row in body["results"]]


def in_order(values: list, descending: bool) -> list:
    """`values` sorted as the lists sort: NULLs last going up and first going down (PostgreSQL's order, on SQLite
    too)."""
    nulls = [value for value in values if value is None]
    known = sorted((value for value in values if value is not None), reverse=descending)
    return nulls + known if descending else known + nulls


@pytest.mark.parametrize("ordering", CONTACT_ORDERINGS)
def test_walking_the_contacts_api_shows_every_contact_once_in_order(sales_api, contacts_that_tie, ordering):
    pages = walk_api(sales_api, CONTACTS, {"ordering": ordering, "page_size": 3})

    whole = sales_api.get(CONTACTS, {"ordering": ordering, "page_size": 500}).json()["results"]
    assert (len(pages), sorted(listed_ids(pages))) == (5, sorted(contact.pk for contact in contacts_that_tie))
    assert listed_ids(pages) == [row["id"] for row in whole]
    if ordering.lstrip("-") == "customer_since":
        values = [row["customer_since"] for body in pages for row in body["results"]]
        assert values == in_order(values, descending=ordering.startswith("-"))


@pytest.mark.parametrize("ordering", CONTACT_ORDERINGS)
def test_the_previous_links_walk_back_through_the_same_pages(sales_api, contacts_that_tie, ordering):
    forward = walk_api(sales_api, CONTACTS, {"ordering": ordering, "page_size": 3})

    backward = [forward[-1]]
    while backward[-1]["previous"]:
        backward.append(sales_api.get(backward[-1]["previous"]).json())

    assert [listed_ids([body]) for body in reversed(backward)] == [listed_ids([body]) for body in forward]


@pytest.mark.parametrize("ordering", ["-ordered", "ordered", "amount", "-amount"])
def test_walking_the_orders_api_shows_every_order_once_in_order(sales_api, ordering):
    moment = timezone.now() - datetime.timedelta(days=2)
    orders = [
        OrderFactory(ordered_at=moment + datetime.timedelta(minutes=number % 3), amount=Decimal(10 * (number % 4)))
        for number in range(11)
    ]

    pages = walk_api(sales_api, ORDERS, {"ordering": ordering, "page_size": 4})

    whole = sales_api.get(ORDERS, {"ordering": ordering, "page_size": 500}).json()["results"]
    assert sorted(listed_ids(pages)) == sorted(order.pk for order in orders)
    assert listed_ids(pages) == [row["id"] for row in whole]


def test_the_api_next_link_keeps_the_filters(sales_api):
    ContactFactory.create_batch(5, region="Nordics")
    ContactFactory.create_batch(5, region="Iberia")

    pages = walk_api(sales_api, CONTACTS, {"region": "Nordics", "page_size": 2})

    assert "region=Nordics" in pages[0]["next"]
    assert len(listed_ids(pages)) == 5


def test_an_altered_cursor_answers_400_saying_so(sales_api):
    ContactFactory.create_batch(3)
    link = sales_api.get(CONTACTS, {"page_size": 2}).json()["next"]

    response = sales_api.get(link.replace("cursor=", "cursor=x"))

    assert response.status_code == 400
    assert "start again from the first page" in response.json()["cursor"][0]


def test_a_cursor_of_another_ordering_answers_400(sales_api):
    ContactFactory.create_batch(3)
    link = sales_api.get(CONTACTS, {"page_size": 2, "ordering": "email"}).json()["next"]

    response = sales_api.get(link.replace("ordering=email", "ordering=created"))

    assert response.status_code == 400
    assert "another ordering" in response.json()["cursor"][0]


def test_a_numbered_page_answers_400_pointing_at_the_cursor(sales_api):
    response = sales_api.get(CONTACTS, {"page": 2})

    assert response.status_code == 400
    assert "cursor" in response.json()["page"][0]


def test_the_api_list_no_longer_counts_the_table(sales_api, django_assert_max_num_queries):
    ContactFactory.create_batch(3)
    with django_assert_max_num_queries(10) as captured:
        body = sales_api.get(CONTACTS).json()

    assert set(body) == {"next", "previous", "results"}
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)


def test_a_list_page_walks_every_row_once_keeping_the_filters(sales_client):
    nordics = ContactFactory.create_batch(30, region="Nordics", last_name="Smith")
    ContactFactory.create_batch(5, region="Iberia")

    pages = walk_pages(sales_client, "/contacts/", {"region": "Nordics", "ordering": "-name"})

    shown = [contact.pk for page in pages for contact in page.context["object_list"]]
    assert (len(pages), sorted(shown)) == (2, sorted(contact.pk for contact in nordics))
    assert "region=Nordics" in page_link(pages[0])
    assert page_link(pages[1], PREVIOUS_LINK) is not None


def test_a_list_page_shows_a_bounded_count(sales_client, monkeypatch):
    monkeypatch.setattr(FilteredListView, "count_limit", 30)
    ContactFactory.create_batch(31)

    first, second = walk_pages(sales_client, "/contacts/")

    assert "1–25 of 30+" in first.content.decode()
    assert "26–31 of 30+" in second.content.decode()


# Query counts: a deep page costs what the first one does, on every list page and API list ---------------------


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(FilteredListView, "paginate_by", 2)
    monkeypatch.setattr(ApiPagination, "page_size", 2)


@pytest.fixture
def login_as(client, make_user):
    def log_in(role):
        client.force_login(make_user(role))
        return client

    return log_in


@pytest.fixture
def api_login_as(api_client, make_user):
    def log_in(role):
        api_client.force_authenticate(make_user(role))
        return api_client

    return log_in


def deep_link(client, first, link_of, depth: int = 3) -> str:
    """The link to the `depth`-th page from `first` (to the last page, for a shorter list)."""
    link = link_of(first)
    for _ in range(depth - 2):
        following = link_of(client.get(link))
        link = following or link
    return link


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_a_deep_list_page_costs_the_queries_of_the_first(login_as, small_pages, django_assert_max_num_queries, case):
    rows_made(case, matching=7, other=0)
    client = login_as(case.viewer)
    with django_assert_max_num_queries(20) as on_the_first:
        first = client.get(case.url, case.always)
    first_queries = len(on_the_first)  # now: the next request empties the log
    link = deep_link(client, first, page_link)

    with django_assert_max_num_queries(first_queries):
        deep = client.get(link)

    assert deep.status_code == 200 and deep.context["page_obj"].start_index == 5


@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_a_deep_api_page_costs_the_queries_of_the_first(api_login_as, small_pages, django_assert_max_num_queries, case):
    rows_made(case, matching=7, other=0)
    api = api_login_as(case.viewer)
    with django_assert_max_num_queries(12) as on_the_first:
        first = api.get(case.url)
    first_queries = len(on_the_first)  # now: the next request empties the log
    link = deep_link(api, first, lambda response: response.json()["next"])

    with django_assert_max_num_queries(first_queries):
        deep = api.get(link)

    assert deep.status_code == 200 and deep.json()["previous"]
