"""The contacts API, as an integration uses it: /api/contacts/, companies, interactions, channels."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Channel, Company, Contact, Interaction
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/contacts/"
COMPANIES = "/api/companies/"
INTERACTIONS = "/api/interactions/"
CHANNELS = "/api/channels/"
PAGE_SIZE = 50  # records per API page


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.data["results"]]


def url(base: str, pk: int) -> str:
    return f"{base}{pk}/"


# Contacts: reading


def test_contact_list_describes_each_contact(sales_api, sales_user):
    contact = ContactFactory(
        first_name="Ada",
        email="ada@example.com",
        owner=sales_user,
        company=CompanyFactory(name="Analytical Engines", domain="engines.example"),
        channel=ChannelFactory(name="Referral"),
    )

    response = sales_api.get(CONTACTS)

    row = response.data["results"][0]
    assert response.status_code == 200
    assert row["id"] == contact.pk
    assert (row["first_name"], row["email"]) == ("Ada", "ada@example.com")
    assert (row["company"], row["company_name"]) == (contact.company.pk, "Analytical Engines")
    assert (row["channel"], row["owner"]) == ("Referral", sales_user.username)


def test_contact_list_shows_the_last_interaction_time(sales_api):
    contact = ContactFactory()
    latest = timezone.now() - timedelta(hours=1)
    InteractionFactory(contact=contact, occurred_at=latest - timedelta(days=5))
    InteractionFactory(contact=contact, occurred_at=latest)

    response = sales_api.get(CONTACTS)

    assert response.data["results"][0]["last_interaction_at"] == latest.isoformat().replace("+00:00", "Z")


def test_contact_list_searches_with_q(sales_api):
    match = ContactFactory(company=CompanyFactory(name="Analytical Engines", domain="engines.example"))
    ContactFactory()

    response = sales_api.get(CONTACTS, {"q": "analytical"})

    assert ids(response) == [match.pk]


def test_contact_list_filters_by_status(sales_api):
    customer = ContactFactory(customer_since=timezone.now() - timedelta(days=3))
    ContactFactory(customer_since=None)

    response = sales_api.get(CONTACTS, {"status": "customer"})

    assert ids(response) == [customer.pk]


def test_contact_list_filters_by_channel_and_owner(sales_api, sales_user, make_user):
    referral = ChannelFactory(name="Referral")
    match = ContactFactory(channel=referral, owner=sales_user)
    ContactFactory(channel=referral, owner=make_user("sales"))
    ContactFactory(channel=ChannelFactory(name="Events"), owner=sales_user)

    response = sales_api.get(CONTACTS, {"channel": referral.pk, "owner": sales_user.pk})

    assert ids(response) == [match.pk]


def test_contact_list_industry_filter_falls_back_to_the_company(sales_api):
    inherited = ContactFactory(industry="", company=CompanyFactory(industry="Logistics"))
    ContactFactory(industry="Software", company=CompanyFactory(industry="Logistics"))

    response = sales_api.get(CONTACTS, {"industry": "Logistics"})

    assert ids(response) == [inherited.pk]


def test_contact_list_orders_with_ordering(sales_api):
    now = timezone.now()
    oldest = ContactFactory(created_at=now - timedelta(days=2))
    newest = ContactFactory(created_at=now)
    middle = ContactFactory(created_at=now - timedelta(days=1))

    response = sales_api.get(CONTACTS, {"ordering": "-created"})

    assert ids(response) == [newest.pk, middle.pk, oldest.pk]


def test_contact_list_is_paginated(sales_api):
    ContactFactory.create_batch(PAGE_SIZE + 1)

    first = sales_api.get(CONTACTS)
    second = sales_api.get(first.data["next"])

    assert len(first.data["results"]) == PAGE_SIZE
    assert second.data["next"] is None
    assert len(second.data["results"]) == 1
    assert set(ids(first)).isdisjoint(ids(second))


def test_contact_list_with_an_invalid_filter_answers_400_naming_the_filter(sales_api):
    response = sales_api.get(CONTACTS, {"status": "vip"})

    assert response.status_code == 400
    assert "status" in response.data


def test_contact_detail(sales_api):
    contact = ContactFactory(first_name="Ada")

    response = sales_api.get(url(CONTACTS, contact.pk))

    assert response.status_code == 200
    assert response.data["first_name"] == "Ada"


def test_unknown_contact_is_404(sales_api):
    response = sales_api.get(url(CONTACTS, 987654))

    assert response.status_code == 404


def test_contact_list_queries_do_not_grow_with_the_rows(sales_api, make_user, django_assert_max_num_queries):
    def contacts_with_everything(count):
        for _ in range(count):
            contact = ContactFactory(owner=make_user("sales"), channel=ChannelFactory())
            InteractionFactory.create_batch(2, contact=contact)

    contacts_with_everything(3)
    with django_assert_max_num_queries(8) as with_three_rows:
        sales_api.get(CONTACTS)

    contacts_with_everything(27)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_api.get(CONTACTS)

    assert len(ids(response)) == 30


# Contacts: writing


def test_create_contact_answers_201_with_the_contact_owned_by_the_caller(sales_api, sales_user):
    response = sales_api.post(
        CONTACTS, {"first_name": "Ada", "last_name": "Lovelace", "email": " Ada@Example.COM "}, format="json"
    )

    contact = Contact.objects.get()
    assert response.status_code == 201
    assert response.data["id"] == contact.pk
    assert (contact.email, contact.owner) == ("ada@example.com", sales_user)
    assert response.data["owner"] == sales_user.username


def test_create_contact_may_name_another_owner_by_id(sales_api, make_user):
    colleague = make_user("sales")

    response = sales_api.post(CONTACTS, {"first_name": "Ada", "owner_id": colleague.pk}, format="json")

    assert response.status_code == 201
    assert Contact.objects.get().owner == colleague


def test_create_contact_links_company_and_channel(sales_api):
    company, channel = CompanyFactory(), ChannelFactory(name="Events")

    response = sales_api.post(
        CONTACTS, {"first_name": "Ada", "company": company.pk, "channel": "Events"}, format="json"
    )

    contact = Contact.objects.get()
    assert response.status_code == 201
    assert (contact.company, contact.channel) == (company, channel)


def test_create_contact_with_an_invalid_email_answers_400_on_the_email(sales_api):
    response = sales_api.post(CONTACTS, {"first_name": "Ada", "email": "ada@"}, format="json")

    assert response.status_code == 400
    assert list(response.data) == ["email"]
    assert not Contact.objects.exists()


def test_create_contact_with_an_email_taken_in_another_case_answers_400_on_the_email(sales_api):
    ContactFactory(email="ada@example.com")

    response = sales_api.post(CONTACTS, {"first_name": "Ada", "email": "ADA@example.COM"}, format="json")

    assert response.status_code == 400
    assert response.data == {"email": ["A contact with this e-mail already exists."]}
    assert Contact.objects.count() == 1


def test_create_contact_without_name_or_email_answers_400_explaining_why(sales_api):
    response = sales_api.post(CONTACTS, {"first_name": "", "last_name": "", "email": "", "phone": "555"}, format="json")

    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Give the contact a name or an e-mail address."]}
    assert not Contact.objects.exists()


def test_create_contact_with_an_unknown_company_answers_400_on_the_company(sales_api):
    response = sales_api.post(CONTACTS, {"first_name": "Ada", "company": 987654}, format="json")

    assert response.status_code == 400
    assert "company" in response.data


def test_create_contact_refuses_customer_state_owner_and_external_id_it_would_not_store(sales_api, make_user):
    """Read-only fields given a value answer 400 saying how they change, rather than 201 with them dropped."""
    someone_else = make_user("sales")
    since = timezone.now() - timedelta(days=30)

    response = sales_api.post(
        CONTACTS,
        {
            "first_name": "Ada",
            "customer_since": since.isoformat(),
            "churned_at": timezone.now().isoformat(),
            "owner": someone_else.username,
            "external_id": "crm-1",
        },
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"customer_since", "churned_at", "owner", "external_id"}
    assert "/win/" in errors["customer_since"][0]
    assert "owner_id" in errors["owner"][0] and "/api/users/" in errors["owner"][0]
    assert "import" in errors["external_id"][0]
    assert not Contact.objects.exists()


def test_a_contact_sent_back_as_the_api_showed_it_saves_and_a_changed_customer_state_is_refused(sales_api):
    since = timezone.now().replace(microsecond=123456) - timedelta(days=40)
    contact = ContactFactory(first_name="Ada", email="ada@example.com", customer_since=since)
    shown = sales_api.get(url(CONTACTS, contact.pk)).json()
    assert shown["customer_since"].endswith(".123456Z")

    # As a browser's JavaScript sends it back: milliseconds, and another offset.
    as_a_browser = (since - timedelta(microseconds=456)).astimezone(timezone.get_fixed_timezone(60)).isoformat()
    again = sales_api.put(
        url(CONTACTS, contact.pk), {**shown, "customer_since": as_a_browser, "job_title": "Countess"}, format="json"
    )
    assert again.status_code == 200, again.json()
    assert Contact.objects.get(pk=contact.pk).job_title == "Countess"

    moved = sales_api.patch(url(CONTACTS, contact.pk), {"customer_since": "2020-01-01T00:00:00Z"}, format="json")
    assert moved.status_code == 400
    assert list(moved.json()) == ["customer_since"]
    # What the system keeps (when the record was made, last changed) is taken and left alone, as a body read a
    # while ago may differ there.
    kept = sales_api.patch(url(CONTACTS, contact.pk), {"created_at": "2020-01-01T00:00:00Z"}, format="json")
    assert kept.status_code == 200
    assert Contact.objects.get(pk=contact.pk).created_at == contact.created_at


def test_update_contact_replaces_its_fields(sales_api):
    contact = ContactFactory(first_name="Ada", last_name="Byron", email="ada@example.com", job_title="Analyst")

    response = sales_api.put(
        url(CONTACTS, contact.pk),
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "job_title": "Countess"},
        format="json",
    )

    contact.refresh_from_db()
    assert response.status_code == 200
    assert (contact.last_name, contact.job_title) == ("Lovelace", "Countess")
    assert response.data["last_name"] == "Lovelace"


def test_partial_update_changes_only_what_is_sent(sales_api):
    contact = ContactFactory(first_name="Ada", email="ada@example.com", phone="")

    response = sales_api.patch(url(CONTACTS, contact.pk), {"phone": "+44 20 7946 0000"}, format="json")

    contact.refresh_from_db()
    assert response.status_code == 200
    assert (contact.first_name, contact.email, contact.phone) == ("Ada", "ada@example.com", "+44 20 7946 0000")


def test_partial_update_refuses_customer_state_and_external_id(sales_api):
    contact = ContactFactory(customer_since=None, external_id="")

    response = sales_api.patch(
        url(CONTACTS, contact.pk),
        {"customer_since": timezone.now().isoformat(), "external_id": "crm-9", "job_title": "CFO"},
        format="json",
    )

    contact.refresh_from_db()
    assert response.status_code == 400
    assert set(response.json()) == {"customer_since", "external_id"}
    assert (contact.customer_since, contact.external_id, contact.job_title) == (None, "", "")


def test_partial_update_to_an_email_taken_in_another_case_answers_400(sales_api):
    ContactFactory(email="grace@example.com")
    contact = ContactFactory(email="ada@example.com")

    response = sales_api.patch(url(CONTACTS, contact.pk), {"email": "GRACE@example.com"}, format="json")

    assert response.status_code == 400
    assert "email" in response.data
    contact.refresh_from_db()
    assert contact.email == "ada@example.com"


def test_update_of_an_unknown_contact_is_404(sales_api):
    response = sales_api.patch(url(CONTACTS, 987654), {"phone": "555"}, format="json")

    assert response.status_code == 404


def test_delete_contact_answers_204_and_removes_it_with_its_interactions(sales_api):
    interaction = InteractionFactory()

    response = sales_api.delete(url(CONTACTS, interaction.contact.pk))

    assert response.status_code == 204
    assert not Contact.objects.exists()
    assert not Interaction.objects.exists()


# Companies


def test_company_list_counts_each_company_contacts(sales_api):
    company = CompanyFactory()
    ContactFactory.create_batch(2, company=company)

    response = sales_api.get(COMPANIES)

    assert response.data["results"][0]["contact_count"] == 2


def test_company_list_searches_filters_and_orders(sales_api):
    initech = CompanyFactory(name="Initech", domain="initech.example", industry="Software")
    initrode = CompanyFactory(name="Initrode", domain="initrode.example", industry="Software")
    CompanyFactory(name="Initial Logistics", domain="initial.example", industry="Logistics")
    CompanyFactory(name="Globex", domain="globex.example", industry="Software")

    response = sales_api.get(COMPANIES, {"q": "init", "industry": "software", "ordering": "-name"})

    assert ids(response) == [initrode.pk, initech.pk]


def test_company_list_is_paginated(sales_api):
    CompanyFactory.create_batch(PAGE_SIZE + 2)

    first = sales_api.get(COMPANIES)
    response = sales_api.get(first.data["next"])

    assert len(ids(response)) == 2


def test_company_list_queries_do_not_grow_with_the_rows(sales_api, make_user, django_assert_max_num_queries):
    def companies_with_contacts(count):
        for _ in range(count):
            ContactFactory.create_batch(2, company=CompanyFactory(owner=make_user("sales")))

    companies_with_contacts(3)
    with django_assert_max_num_queries(8) as with_three_rows:
        sales_api.get(COMPANIES)

    companies_with_contacts(27)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_api.get(COMPANIES)

    assert len(ids(response)) == 30


def test_create_company_is_owned_by_the_caller(sales_api, sales_user):
    response = sales_api.post(COMPANIES, {"name": "Initech", "domain": "Initech.COM"}, format="json")

    company = Company.objects.get()
    assert response.status_code == 201
    assert (company.domain, company.owner) == ("initech.com", sales_user)


def test_create_company_without_a_name_answers_400_on_the_name(sales_api):
    response = sales_api.post(COMPANIES, {"name": "", "domain": "initech.com"}, format="json")

    assert response.status_code == 400
    assert "name" in response.data
    assert not Company.objects.exists()


def test_create_company_refuses_an_external_id_it_would_not_store(sales_api):
    response = sales_api.post(COMPANIES, {"name": "Initech", "external_id": "erp-7"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["external_id"]
    assert not Company.objects.exists()
    assert sales_api.post(COMPANIES, {"name": "Initech", "external_id": ""}, format="json").status_code == 201


def test_partial_update_company(sales_api):
    company = CompanyFactory(industry="Software")

    response = sales_api.patch(url(COMPANIES, company.pk), {"industry": "Logistics"}, format="json")

    company.refresh_from_db()
    assert response.status_code == 200
    assert company.industry == "Logistics"


def test_delete_company_keeps_its_contacts(sales_api):
    contact = ContactFactory()

    response = sales_api.delete(url(COMPANIES, contact.company.pk))

    contact.refresh_from_db()
    assert response.status_code == 204
    assert contact.company is None


def test_unknown_company_is_404(sales_api):
    response = sales_api.get(url(COMPANIES, 987654))

    assert response.status_code == 404


# Interactions


def test_interaction_list_filters_by_contact_and_kind(sales_api):
    contact = ContactFactory()
    call = InteractionFactory(contact=contact, kind=Interaction.Kind.CALL)
    InteractionFactory(contact=contact, kind=Interaction.Kind.NOTE)
    InteractionFactory(kind=Interaction.Kind.CALL)

    response = sales_api.get(INTERACTIONS, {"contact": contact.pk, "kind": "call"})

    assert ids(response) == [call.pk]


def test_interaction_list_searches_the_summaries_with_q(sales_api):
    match = InteractionFactory(summary="Asked for a renewal quote")
    InteractionFactory(summary="Left a voicemail")

    response = sales_api.get(INTERACTIONS, {"q": "quote"})

    assert ids(response) == [match.pk]


def test_interaction_list_is_newest_first_and_can_be_reversed(sales_api):
    now = timezone.now()
    older = InteractionFactory(occurred_at=now - timedelta(days=1))
    newer = InteractionFactory(occurred_at=now)

    newest_first = sales_api.get(INTERACTIONS)
    oldest_first = sales_api.get(INTERACTIONS, {"ordering": "occurred_at"})

    assert ids(newest_first) == [newer.pk, older.pk]
    assert ids(oldest_first) == [older.pk, newer.pk]


def test_interaction_list_filters_by_time(sales_api):
    now = timezone.now()
    InteractionFactory(occurred_at=now - timedelta(days=10))
    recent = InteractionFactory(occurred_at=now - timedelta(days=1))

    response = sales_api.get(INTERACTIONS, {"occurred_after": (now - timedelta(days=2)).isoformat()})

    assert ids(response) == [recent.pk]


def test_interaction_list_is_paginated(sales_api):
    contact = ContactFactory()
    InteractionFactory.create_batch(PAGE_SIZE + 1, contact=contact)

    first = sales_api.get(INTERACTIONS)
    response = sales_api.get(first.data["next"])

    assert len(ids(response)) == 1


def test_log_interaction_records_the_caller_and_defaults_to_now(sales_api, sales_user):
    contact = ContactFactory()
    before = timezone.now()

    response = sales_api.post(INTERACTIONS, {"contact": contact.pk, "kind": "call", "summary": "Hi"}, format="json")

    interaction = Interaction.objects.get()
    assert response.status_code == 201
    assert (interaction.contact, interaction.user) == (contact, sales_user)
    assert before <= interaction.occurred_at <= timezone.now()


def test_log_interaction_with_an_unknown_kind_answers_400_on_the_kind(sales_api):
    contact = ContactFactory()

    response = sales_api.post(INTERACTIONS, {"contact": contact.pk, "kind": "fax"}, format="json")

    assert response.status_code == 400
    assert "kind" in response.data
    assert not Interaction.objects.exists()


def test_interactions_cannot_be_edited(sales_api):
    interaction = InteractionFactory()

    response = sales_api.patch(url(INTERACTIONS, interaction.pk), {"summary": "Rewritten"}, format="json")

    assert response.status_code == 405


def test_delete_interaction(sales_api):
    interaction = InteractionFactory()

    response = sales_api.delete(url(INTERACTIONS, interaction.pk))

    assert response.status_code == 204
    assert not Interaction.objects.exists()


# Channels


def test_channel_list_filters_active_channels(sales_api):
    active = ChannelFactory(name="Referral")
    ChannelFactory(name="Fax campaigns", is_active=False)

    response = sales_api.get(CHANNELS, {"is_active": "true"})

    assert ids(response) == [active.pk]


def test_channel_list_searches_with_q_and_orders(sales_api):
    paid_ads = ChannelFactory(name="Paid ads")
    paid_social = ChannelFactory(name="Paid social")
    ChannelFactory(name="Referral")

    response = sales_api.get(CHANNELS, {"q": "paid", "ordering": "-name"})

    assert ids(response) == [paid_social.pk, paid_ads.pk]


def test_channel_list_is_paginated(sales_api):
    Channel.objects.bulk_create(Channel(name=f"Channel {n}") for n in range(PAGE_SIZE + 3))

    first = sales_api.get(CHANNELS)
    response = sales_api.get(first.data["next"])

    assert len(ids(response)) == 3


def test_admin_creates_a_channel(api_client, admin_role_user):
    api_client.force_authenticate(admin_role_user)

    response = api_client.post(CHANNELS, {"name": "Podcasts"}, format="json")

    assert response.status_code == 201
    assert Channel.objects.filter(name="Podcasts").exists()


def test_channel_with_a_name_taken_in_another_case_answers_400(api_client, admin_role_user):
    ChannelFactory(name="Referral")
    api_client.force_authenticate(admin_role_user)

    response = api_client.post(CHANNELS, {"name": "REFERRAL"}, format="json")

    assert response.status_code == 400
    assert "name" in response.data
    assert Channel.objects.count() == 1


def test_channel_in_use_cannot_be_deleted(api_client, admin_role_user):
    contact = ContactFactory()
    api_client.force_authenticate(admin_role_user)

    response = api_client.delete(url(CHANNELS, contact.channel.pk))

    assert response.status_code == 400
    assert Channel.objects.filter(pk=contact.channel.pk).exists()


def test_sales_may_read_but_not_create_channels(sales_api):
    response = sales_api.post(CHANNELS, {"name": "Podcasts"}, format="json")

    assert response.status_code == 403
    assert not Channel.objects.exists()


# Who may call the API


@pytest.mark.parametrize("endpoint", [CONTACTS, COMPANIES, INTERACTIONS, CHANNELS])
def test_anonymous_caller_gets_401_with_the_token_challenge(api_client, endpoint):
    response = api_client.get(endpoint)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_user_without_a_role_gets_403(api_client, make_user):
    api_client.force_authenticate(make_user(None))

    response = api_client.get(CONTACTS)

    assert response.status_code == 403


def test_manager_may_read_contacts(api_client, manager_user):
    ContactFactory()
    api_client.force_authenticate(manager_user)

    response = api_client.get(CONTACTS)

    assert response.status_code == 200


def test_manager_may_not_create_contacts(api_client, manager_user):
    api_client.force_authenticate(manager_user)

    response = api_client.post(CONTACTS, {"first_name": "Ada"}, format="json")

    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_manager_may_not_delete_contacts(api_client, manager_user):
    contact = ContactFactory()
    api_client.force_authenticate(manager_user)

    response = api_client.delete(url(CONTACTS, contact.pk))

    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_token_obtained_with_the_password_authenticates_later_calls(api_client, sales_user):
    token = api_client.post("/api/auth/token/", {"username": sales_user.username, "password": "correct-horse-battery"})
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.data['token']}")

    response = api_client.get(CONTACTS)

    assert token.status_code == 200
    assert response.status_code == 200


def test_token_is_refused_for_a_wrong_password(api_client, sales_user):
    response = api_client.post("/api/auth/token/", {"username": sales_user.username, "password": "wrong"})

    assert response.status_code == 400
    assert "token" not in response.data


def test_invalid_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api_client.get(CONTACTS)

    assert response.status_code == 401


def test_logged_in_browser_session_may_use_the_api(client, sales_user):
    client.force_login(sales_user)

    response = client.get(CONTACTS)

    assert response.status_code == 200


# Schema and docs


def test_schema_is_an_openapi_document_with_the_contacts_paths(sales_api):
    response = sales_api.get("/api/schema/", {"format": "json"})

    schema = response.json()
    assert response.status_code == 200
    assert schema["openapi"].startswith("3.")
    assert {"/api/contacts/", "/api/contacts/{id}/", "/api/companies/", "/api/interactions/"} <= set(schema["paths"])


def test_swagger_ui_is_served_from_our_own_static_files(client, sales_user):
    client.force_login(sales_user)

    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert re.findall(r"https?://", html) == []


def test_an_integration_can_ask_for_larger_pages_up_to_a_limit(sales_api):
    ContactFactory.create_batch(3)

    two = sales_api.get("/api/contacts/", {"page_size": 2})
    capped = sales_api.get("/api/contacts/", {"page_size": 100000})

    assert len(two.data["results"]) == 2
    assert two.data["next"] is not None
    assert len(capped.data["results"]) == 3


def test_interaction_list_with_a_time_zone_offset_postgresql_cannot_hold_answers_400(sales_api):
    response = sales_api.get(INTERACTIONS, {"occurred_after": "2025-04-07T12:44:16-16:47"})

    assert response.status_code == 400
    assert "offset" in response.json()["occurred_after"][0]
