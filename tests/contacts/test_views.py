"""The contacts and companies pages, as a logged-in member of staff uses them."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Company, Contact, Interaction
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory
from tests.paging import page_link, walk_pages

pytestmark = pytest.mark.django_db

CONTACT_LIST = reverse("contacts:contact_list")
CONTACT_CREATE = reverse("contacts:contact_create")
COMPANY_LIST = reverse("contacts:company_list")
COMPANY_CREATE = reverse("contacts:company_create")
LOGIN = reverse("login")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25  # what a list page shows at once


def shown(response) -> list:
    """The records a list page shows, in its order."""
    assert response.status_code == 200
    return list(response.context["object_list"])


def contact_form_data(**overrides) -> dict:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "",
        "company": "",
        "job_title": "",
        "region": "",
        "industry": "",
        "channel": "",
        "owner": "",
    }
    data.update(overrides)
    return data


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(day))


# The contact list: search and filters


@pytest.mark.parametrize(
    ("field", "value", "query"),
    [
        ("first_name", "Augusta", "augusta"),
        ("last_name", "Byron", "BYRON"),
        ("email", "countess@analytical.example", "analytical"),
    ],
)
def test_contact_list_search_finds_contacts_by_name_or_email(sales_client, field, value, query):
    match = ContactFactory(**{field: value})
    ContactFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")

    response = sales_client.get(CONTACT_LIST, {"q": query})

    assert shown(response) == [match]


def test_contact_list_search_finds_contacts_by_company_name(sales_client):
    match = ContactFactory(company=CompanyFactory(name="Analytical Engines plc"))
    ContactFactory(company=CompanyFactory(name="Difference Ltd"))

    response = sales_client.get(CONTACT_LIST, {"q": "engines"})

    assert shown(response) == [match]


def test_contact_list_search_needs_every_word_to_match(sales_client):
    match = ContactFactory(first_name="Ada", last_name="Lovelace")
    ContactFactory(first_name="Ada", last_name="Byron")

    response = sales_client.get(CONTACT_LIST, {"q": "ada love"})

    assert shown(response) == [match]


@pytest.mark.parametrize("status", ["customer", "churned", "prospect"])
def test_contact_list_filters_by_customer_status(sales_client, status):
    now = timezone.now()
    contacts = {
        "customer": ContactFactory(customer_since=now - timedelta(days=30)),
        "churned": ContactFactory(customer_since=now - timedelta(days=30), churned_at=now - timedelta(days=1)),
        "prospect": ContactFactory(customer_since=None),
    }

    response = sales_client.get(CONTACT_LIST, {"status": status})

    assert shown(response) == [contacts[status]]


def test_contact_list_filters_by_channel(sales_client):
    referral = ChannelFactory(name="Referral")
    match = ContactFactory(channel=referral)
    ContactFactory(channel=ChannelFactory(name="Paid ads"))

    response = sales_client.get(CONTACT_LIST, {"channel": referral.pk})

    assert shown(response) == [match]


def test_contact_list_filters_by_owner(sales_client, sales_user, make_user):
    mine = ContactFactory(owner=sales_user)
    ContactFactory(owner=make_user("sales"))

    response = sales_client.get(CONTACT_LIST, {"owner": sales_user.pk})

    assert shown(response) == [mine]


def test_contact_list_industry_filter_uses_the_company_industry_when_the_contact_has_none(sales_client):
    own = ContactFactory(industry="Logistics", company=CompanyFactory(industry="Software"))
    inherited = ContactFactory(industry="", company=CompanyFactory(industry="Logistics"))
    ContactFactory(industry="Software", company=CompanyFactory(industry="Logistics"))  # its own industry wins

    response = sales_client.get(CONTACT_LIST, {"industry": "logistics"})

    assert set(shown(response)) == {own, inherited}


def test_contact_list_filters_by_creation_date_range(sales_client):
    ContactFactory(created_at=at("2025-02-28T23:59"))
    first_day = ContactFactory(created_at=at("2025-03-01T00:00"))
    last_day = ContactFactory(created_at=at("2025-03-31T23:59"))
    ContactFactory(created_at=at("2025-04-01T00:00"))

    response = sales_client.get(CONTACT_LIST, {"created_after": "2025-03-01", "created_before": "2025-03-31"})

    assert set(shown(response)) == {first_day, last_day}


def test_contact_list_with_an_unreadable_date_shows_the_error_and_no_rows(sales_client):
    ContactFactory()

    response = sales_client.get(CONTACT_LIST, {"created_after": "last tuesday"})

    assert shown(response) == []
    assert "created_after" in response.context["filter"].form.errors


# The contact list: ordering and pages


def test_contact_list_is_sorted_by_last_name_by_default(sales_client):
    for last_name in ["Turing", "Hopper", "Lovelace"]:
        ContactFactory(last_name=last_name)

    response = sales_client.get(CONTACT_LIST)

    assert [c.last_name for c in shown(response)] == ["Hopper", "Lovelace", "Turing"]


def test_contact_list_sorts_by_the_chosen_column(sales_client):
    now = timezone.now()
    oldest = ContactFactory(created_at=now - timedelta(days=3))
    newest = ContactFactory(created_at=now)
    middle = ContactFactory(created_at=now - timedelta(days=1))

    response = sales_client.get(CONTACT_LIST, {"ordering": "-created"})

    assert shown(response) == [newest, middle, oldest]


def test_contact_list_sorts_by_company_name(sales_client):
    zeta = ContactFactory(company=CompanyFactory(name="Zeta", domain="zeta.example"))
    alpha = ContactFactory(company=CompanyFactory(name="Alpha", domain="alpha.example"))

    response = sales_client.get(CONTACT_LIST, {"ordering": "company"})

    assert shown(response) == [alpha, zeta]


def test_contact_list_pages_show_every_contact_once_even_when_names_tie(sales_client):
    # Enough rows for PostgreSQL to return ties in a different order from one page to the next.
    contacts = ContactFactory.create_batch(4 * PAGE_SIZE + 10, last_name="Smith")

    pages = walk_pages(sales_client, CONTACT_LIST, {"ordering": "name"})

    seen = [contact.pk for page in pages for contact in shown(page)]
    assert (len(pages), sorted(seen)) == (5, sorted(contact.pk for contact in contacts))


def test_contact_list_page_links_keep_the_filters(sales_client):
    ContactFactory.create_batch(PAGE_SIZE + 1, region="Europe")

    response = sales_client.get(CONTACT_LIST, {"region": "Europe"})

    assert page_link(response).startswith(f"{CONTACT_LIST}?region=Europe&cursor=")


def test_contact_list_page_of_an_old_numbered_link_shows_the_first_page(sales_client):
    contact = ContactFactory()

    response = sales_client.get(CONTACT_LIST, {"page": 9})

    assert shown(response) == [contact]


def test_contact_list_with_an_altered_cursor_answers_400(sales_client):
    ContactFactory.create_batch(PAGE_SIZE + 1)
    link = page_link(sales_client.get(CONTACT_LIST))

    response = sales_client.get(link[:-3] + "abc")

    assert response.status_code == 400
    assert "start again from the first page" in response.content.decode()


def test_contact_list_htmx_request_gets_only_the_results_fragment(sales_client):
    contact = ContactFactory(first_name="Augusta")

    response = sales_client.get(CONTACT_LIST, {"q": "augusta"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert 'class="filters' not in html
    assert contact.get_absolute_url() in html


def test_contact_list_full_page_has_the_filter_form_and_the_results(sales_client):
    response = sales_client.get(CONTACT_LIST)

    html = response.content.decode()
    assert "<html" in html
    assert 'class="filters' in html
    assert 'id="results"' in html


# Query counts: a page costs the same whatever the number of rows


def contacts_with_everything(count: int, make_user) -> None:
    """Contacts each with their own company, channel, owner and interactions: what a list row shows."""
    for _ in range(count):
        contact = ContactFactory(owner=make_user("sales"), channel=ChannelFactory())
        InteractionFactory.create_batch(2, contact=contact)


def test_contact_list_queries_do_not_grow_with_the_rows(sales_client, make_user, django_assert_max_num_queries):
    contacts_with_everything(3, make_user)
    with django_assert_max_num_queries(15) as with_three_rows:
        sales_client.get(CONTACT_LIST)

    contacts_with_everything(27, make_user)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(CONTACT_LIST)

    assert len(shown(response)) == PAGE_SIZE


def test_company_list_queries_do_not_grow_with_the_rows(sales_client, make_user, django_assert_max_num_queries):
    def companies_with_contacts(count):
        for _ in range(count):
            ContactFactory.create_batch(2, company=CompanyFactory(owner=make_user("sales")))

    companies_with_contacts(3)
    with django_assert_max_num_queries(15) as with_three_rows:
        sales_client.get(COMPANY_LIST)

    companies_with_contacts(27)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(COMPANY_LIST)

    assert len(shown(response)) == PAGE_SIZE


# The contact page


def test_contact_page_shows_the_contact(sales_client):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")

    response = sales_client.get(contact.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ada Lovelace" in html
    assert "mailto:ada@example.com" in html


def test_contact_page_shows_the_company_industry_when_the_contact_has_none(sales_client):
    contact = ContactFactory(industry="", company=CompanyFactory(industry="Logistics"))

    response = sales_client.get(contact.get_absolute_url())

    html = response.content.decode()
    assert "Logistics" in html
    assert "(company's)" in html


def test_contact_page_shows_the_timeline_newest_first(sales_client):
    contact = ContactFactory()
    now = timezone.now()
    InteractionFactory(contact=contact, occurred_at=now - timedelta(days=7), summary="First call")
    InteractionFactory(contact=contact, occurred_at=now, summary="Latest meeting")
    InteractionFactory(contact=contact, occurred_at=now - timedelta(days=2), summary="Follow-up e-mail")

    response = sales_client.get(contact.get_absolute_url())

    html = response.content.decode()
    positions = [html.index(summary) for summary in ("Latest meeting", "Follow-up e-mail", "First call")]
    assert positions == sorted(positions)


def test_contact_page_shows_only_its_own_interactions(sales_client):
    contact = ContactFactory()
    InteractionFactory(summary="Someone else's call")

    response = sales_client.get(contact.get_absolute_url())

    assert "Someone else&#x27;s call" not in response.content.decode()


@pytest.mark.parametrize("name", ["contact_detail", "contact_update", "contact_delete"])
def test_unknown_contact_is_not_found(sales_client, name):
    response = sales_client.get(reverse(f"contacts:{name}", args=[987654]))

    assert response.status_code == 404


def test_logging_an_interaction_on_an_unknown_contact_is_not_found(sales_client):
    response = sales_client.post(reverse("contacts:interaction_log", args=[987654]), {"kind": "call"})

    assert response.status_code == 404


# Creating and editing a contact


def test_create_contact_saves_it_owned_by_the_creator_and_opens_its_page(sales_client, sales_user):
    response = sales_client.post(CONTACT_CREATE, contact_form_data(email=" Ada@Example.COM "))

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response.url == contact.get_absolute_url()
    assert (contact.email, contact.owner) == ("ada@example.com", sales_user)


def test_the_owner_lists_active_staff_by_name_and_an_owner_who_left_stays_on_their_records(sales_client, make_user):
    sam = make_user("sales", username="sam", first_name="Sam", last_name="Carter")
    gone = make_user("sales", username="gone", first_name="Gil", last_name="Gone", is_active=False)
    contact = ContactFactory(owner=gone)

    for url in (CONTACT_CREATE, COMPANY_CREATE):
        page = sales_client.get(url).content.decode()
        assert f'<option value="{sam.pk}">Sam Carter</option>' in page
        assert "Gil Gone" not in page
    editing = sales_client.get(reverse("contacts:contact_update", args=[contact.pk])).content.decode()
    assert f'<option value="{gone.pk}" selected>Gil Gone</option>' in editing


def test_create_contact_from_a_company_page_preselects_the_company(sales_client):
    company = CompanyFactory()

    response = sales_client.get(CONTACT_CREATE, {"company": company.pk})

    assert response.context["form"]["company"].value() == str(company.pk)


def test_create_contact_with_invalid_input_shows_field_errors_and_keeps_what_was_typed(sales_client):
    response = sales_client.post(
        CONTACT_CREATE, contact_form_data(first_name="Augusta", email="not-an-email", job_title="Countess")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert 'value="Augusta"' in html
    assert 'value="Countess"' in html
    assert not Contact.objects.exists()


def test_create_contact_with_an_email_taken_in_another_case_says_so_on_the_email_field(sales_client):
    ContactFactory(email="ada@example.com")

    response = sales_client.post(CONTACT_CREATE, contact_form_data(email="ADA@Example.com"))

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["A contact with this e-mail already exists."]
    assert "A contact with this e-mail already exists." in response.content.decode()
    assert Contact.objects.count() == 1


def test_create_contact_without_name_or_email_explains_why(sales_client):
    response = sales_client.post(
        CONTACT_CREATE, contact_form_data(first_name="", last_name="", email="", phone="+44 20 7946 0000")
    )

    assert response.status_code == 200
    assert "Give the contact a name or an e-mail address." in response.content.decode()
    assert 'value="+44 20 7946 0000"' in response.content.decode()
    assert not Contact.objects.exists()


def test_edit_contact_saves_the_changes(sales_client):
    contact = ContactFactory(first_name="Ada", last_name="Byron", email="ada@example.com")

    response = sales_client.post(
        reverse("contacts:contact_update", args=[contact.pk]),
        contact_form_data(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
    )

    contact.refresh_from_db()
    assert response.status_code == 302
    assert contact.last_name == "Lovelace"


def test_edit_contact_with_invalid_input_keeps_what_was_typed_and_stores_nothing(sales_client):
    contact = ContactFactory(first_name="Ada", email="ada@example.com")

    response = sales_client.post(
        reverse("contacts:contact_update", args=[contact.pk]),
        contact_form_data(first_name="Augusta", email="ada@"),
    )

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert 'value="Augusta"' in response.content.decode()
    contact.refresh_from_db()
    assert (contact.first_name, contact.email) == ("Ada", "ada@example.com")


def test_edit_contact_to_an_email_taken_by_another_contact_is_refused(sales_client):
    ContactFactory(email="grace@example.com")
    contact = ContactFactory(email="ada@example.com")

    response = sales_client.post(
        reverse("contacts:contact_update", args=[contact.pk]), contact_form_data(email="Grace@Example.com")
    )

    assert response.context["form"].errors["email"] == ["A contact with this e-mail already exists."]
    contact.refresh_from_db()
    assert contact.email == "ada@example.com"


# Deleting a contact


def test_delete_contact_asks_for_confirmation_first(sales_client):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")

    response = sales_client.get(reverse("contacts:contact_delete", args=[contact.pk]))

    assert response.status_code == 200
    assert "Delete Ada Lovelace?" in response.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_delete_contact_once_confirmed_removes_it_and_returns_to_the_list(sales_client):
    contact = ContactFactory()

    response = sales_client.post(reverse("contacts:contact_delete", args=[contact.pk]))

    assert response.status_code == 302
    assert response.url == CONTACT_LIST
    assert not Contact.objects.filter(pk=contact.pk).exists()


# Logging an interaction


def test_logging_an_interaction_with_htmx_returns_the_updated_timeline(sales_client, sales_user):
    contact = ContactFactory()
    InteractionFactory(contact=contact, occurred_at=timezone.now() - timedelta(days=3), summary="Earlier call")

    response = sales_client.post(
        reverse("contacts:interaction_log", args=[contact.pk]),
        {"kind": "meeting", "direction": "inbound", "summary": "Demo of the new plan"},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="activity">')
    assert "<html" not in html
    assert html.index("Demo of the new plan") < html.index("Earlier call")
    logged = contact.interactions.get(summary="Demo of the new plan")
    assert (logged.kind, logged.user) == (Interaction.Kind.MEETING, sales_user)


def test_logging_an_invalid_interaction_with_htmx_shows_the_errors_in_place(sales_client):
    contact = ContactFactory()

    response = sales_client.post(
        reverse("contacts:interaction_log", args=[contact.pk]),
        {"kind": "carrier-pigeon", "summary": "Coo"},
        **HTMX,
    )

    # htmx swaps in 2xx answers only; the form must come back with its error to be seen.
    assert response.status_code == 200
    assert "carrier-pigeon is not one of the available choices" in response.content.decode()
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("typed", ["01/02/2026 10:00", "02/01/26 10:00"])  # Django's US input formats took both
def test_a_time_typed_another_way_than_the_iso_one_is_refused_rather_than_guessed(sales_client, typed):
    """01/02/2026 is 2 January to one reader and 1 February to another: a form takes only what a browser's date
    and time inputs send (2026-02-01T10:00), as every form of the CRM does."""
    contact = ContactFactory()
    url = reverse("contacts:interaction_log", args=[contact.pk])

    refused = sales_client.post(url, {"kind": "call", "summary": "Rang", "occurred_at": typed}, **HTMX)
    taken = sales_client.post(url, {"kind": "call", "summary": "Rang", "occurred_at": "2026-02-01T10:00"}, **HTMX)

    assert "Enter a valid date/time." in refused.content.decode()
    assert taken.status_code == 200
    logged = contact.interactions.get()
    assert timezone.localtime(logged.occurred_at).date() == datetime(2026, 2, 1).date()


def test_logging_an_interaction_without_javascript_redirects_back_to_the_contact(sales_client):
    contact = ContactFactory()

    response = sales_client.post(reverse("contacts:interaction_log", args=[contact.pk]), {"kind": "note"}, follow=True)

    assert response.redirect_chain == [(contact.get_absolute_url(), 302)]
    assert "Interaction logged." in response.content.decode()
    assert contact.interactions.get().kind == Interaction.Kind.NOTE


def test_logging_an_interaction_at_a_chosen_time(sales_client):
    contact = ContactFactory()

    sales_client.post(
        reverse("contacts:interaction_log", args=[contact.pk]),
        {"kind": "meeting", "occurred_at": "2025-06-02T14:30"},
        **HTMX,
    )

    assert contact.interactions.get().occurred_at == at("2025-06-02T14:30")


# Companies


def test_company_list_searches_by_name_or_domain(sales_client):
    by_name = CompanyFactory(name="Initech", domain="initech.example")
    by_domain = CompanyFactory(name="Umbrella", domain="initech-holdings.example")
    CompanyFactory(name="Globex", domain="globex.example")

    response = sales_client.get(COMPANY_LIST, {"q": "initech"})

    assert set(shown(response)) == {by_name, by_domain}


def test_company_list_shows_how_many_contacts_each_company_has(sales_client):
    company = CompanyFactory()
    ContactFactory.create_batch(3, company=company)

    response = sales_client.get(COMPANY_LIST)

    assert shown(response)[0].contact_count == 3


def test_company_list_htmx_request_gets_only_the_results_fragment(sales_client):
    CompanyFactory()

    response = sales_client.get(COMPANY_LIST, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html


def test_company_page_lists_its_contacts(sales_client):
    company = CompanyFactory()
    contact = ContactFactory(company=company)
    other = ContactFactory()

    response = sales_client.get(company.get_absolute_url())

    html = response.content.decode()
    assert contact.get_absolute_url() in html
    assert other.get_absolute_url() not in html


def test_create_company_makes_the_creator_its_owner(sales_client, sales_user):
    response = sales_client.post(COMPANY_CREATE, {"name": "Initech", "domain": "Initech.com"})

    company = Company.objects.get()
    assert response.status_code == 302
    assert (company.name, company.domain, company.owner) == ("Initech", "initech.com", sales_user)


def test_create_company_without_a_name_shows_the_error(sales_client):
    response = sales_client.post(COMPANY_CREATE, {"name": "", "domain": "initech.com"})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert 'value="initech.com"' in response.content.decode()
    assert not Company.objects.exists()


def test_delete_company_keeps_its_contacts(sales_client):
    company = CompanyFactory()
    contact = ContactFactory(company=company)

    response = sales_client.post(reverse("contacts:company_delete", args=[company.pk]))

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.company is None


def test_unknown_company_is_not_found(sales_client):
    response = sales_client.get(reverse("contacts:company_detail", args=[987654]))

    assert response.status_code == 404


# Who may do what


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(CONTACT_LIST)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={CONTACT_LIST}"


@pytest.mark.parametrize("url", [CONTACT_LIST, CONTACT_CREATE, COMPANY_LIST])
def test_user_without_a_role_gets_the_clear_forbidden_page(client, make_user, url):
    client.force_login(make_user(None))

    response = client.get(url)

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_manager_may_read_contacts(client, manager_user):
    contact = ContactFactory()
    client.force_login(manager_user)

    response = client.get(contact.get_absolute_url())

    assert response.status_code == 200


def test_manager_may_not_open_the_new_contact_form(client, manager_user):
    client.force_login(manager_user)

    response = client.get(CONTACT_CREATE)

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_manager_may_not_create_a_contact(client, manager_user):
    client.force_login(manager_user)

    response = client.post(CONTACT_CREATE, contact_form_data())

    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_manager_may_not_delete_a_contact(client, manager_user):
    contact = ContactFactory()
    client.force_login(manager_user)

    response = client.post(reverse("contacts:contact_delete", args=[contact.pk]))

    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_manager_may_not_log_an_interaction(client, manager_user):
    contact = ContactFactory()
    client.force_login(manager_user)

    response = client.post(reverse("contacts:interaction_log", args=[contact.pk]), {"kind": "call"}, **HTMX)

    assert response.status_code == 403
    assert not Interaction.objects.exists()


def test_manager_does_not_see_the_edit_buttons(client, manager_user):
    contact = ContactFactory()
    client.force_login(manager_user)

    response = client.get(contact.get_absolute_url())

    html = response.content.decode()
    assert reverse("contacts:contact_update", args=[contact.pk]) not in html
    assert "Log an interaction" not in html


def test_a_contact_whose_channel_was_retired_can_still_be_saved(sales_client):
    retired = ChannelFactory(name="Trade fair 2024", is_active=False)
    contact = ContactFactory(channel=retired)

    response = sales_client.post(
        reverse("contacts:contact_update", args=[contact.pk]),
        {"first_name": "Kept", "last_name": contact.last_name, "email": contact.email, "channel": retired.pk},
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.first_name, contact.channel) == ("Kept", retired)


def test_the_contact_list_lets_a_long_email_wrap_at_its_at_sign_and_dots(sales_client):
    ContactFactory(email="vincenza.aporti@mancini.example.com")

    html = sales_client.get(CONTACT_LIST).content.decode()

    assert '<td class="wrap">vincenza<wbr>.aporti@<wbr>mancini<wbr>.example<wbr>.com</td>' in html


def test_a_contact_other_records_hold_is_not_deleted_and_the_message_says_which(sales_client, sales_api):
    from django.contrib.messages import get_messages

    from tests.sales.factories import DealFactory, OrderFactory

    contact = ContactFactory(first_name="Ada", last_name="Held")
    DealFactory.create_batch(2, contact=contact)
    OrderFactory(contact=contact)

    response = sales_client.post(reverse("contacts:contact_delete", args=[contact.pk]))

    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Ada Held cannot be deleted while other records refer to it: 2 deals, 1 order."
    ]
    api = sales_api.delete(f"/api/contacts/{contact.pk}/")
    assert api.status_code == 400
    assert api.json() == {"non_field_errors": ["Other records still refer to this one: 2 deals, 1 order."]}
    assert Contact.objects.filter(pk=contact.pk).exists()
