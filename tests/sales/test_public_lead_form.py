"""The public lead form: a website visitor, a bot and a flood, none of them logged in."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from contacts.models import Channel
from sales.models import Lead
from tests.contacts.factories import ChannelFactory

pytestmark = pytest.mark.django_db

FORM = reverse("sales:public_lead_form")
THANKS = reverse("sales:public_lead_thanks")


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """The rate limit counts in the cache; every test starts with a clean slate."""
    cache.clear()
    yield
    cache.clear()


def visitor_data(**overrides) -> dict:
    data = {
        "name": "Ada King Lovelace",
        "email": "Ada@Engines.example",
        "company": "Analytical Engines",
        "message": "We would like a demo.",
        "website": "",
    }
    data.update(overrides)
    return data


def test_the_form_is_open_without_logging_in(client):
    response = client.get(FORM)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="email"' in html and 'name="csrfmiddlewaretoken"' in html


def test_link_checkers_may_ask_for_the_page_headers(client):
    assert client.head(FORM).status_code == 200
    assert client.head(THANKS).status_code == 200


def test_a_visitor_leaves_a_lead_from_the_web_form_channel(client):
    response = client.post(FORM, visitor_data())

    assert response.status_code == 302
    assert response["Location"] == THANKS
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Ada King", "Lovelace")
    assert (lead.email, lead.company_name) == ("ada@engines.example", "Analytical Engines")
    assert lead.message == "We would like a demo."
    assert lead.channel.name == "Web form"
    assert lead.owner is None
    assert lead.status == Lead.Status.NEW


def test_the_thanks_page_thanks_the_visitor(client):
    response = client.get(THANKS)

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()


def test_an_existing_web_form_channel_is_reused_whatever_its_case(client):
    existing = ChannelFactory(name="WEB FORM")

    client.post(FORM, visitor_data())
    client.post(FORM, visitor_data(email="grace@navy.example"))

    assert {lead.channel for lead in Lead.objects.all()} == {existing}
    assert Channel.objects.filter(name__iexact="web form").count() == 1


def test_a_one_word_name_is_kept_as_the_first_name(client):
    client.post(FORM, visitor_data(name="Ada"))

    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Ada", "")


def test_a_filled_honeypot_is_thanked_like_a_person_but_nothing_is_stored(client):
    response = client.post(FORM, visitor_data(website="http://spam.example"))

    assert response.status_code == 302
    assert response["Location"] == THANKS
    assert not Lead.objects.exists()
    assert not Channel.objects.exists()


def test_the_honeypot_is_hidden_by_a_class_and_skipped_by_keyboards_and_screen_readers(client):
    html = client.get(FORM).content.decode()

    assert '<div class="lead-form-extra" aria-hidden="true">' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html
    assert "style=" not in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("email", "", "This field is required."),
        ("email", "not-an-address", "Enter a valid email address."),
    ],
)
def test_bad_input_is_shown_with_a_message_and_the_input_kept(client, field, value, message):
    response = client.post(FORM, visitor_data(**{field: value}))

    html = response.content.decode()
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert "Please check the fields marked below." in html
    assert "We would like a demo." in html
    assert not Lead.objects.exists()


def test_a_name_longer_than_a_lead_holds_is_refused_on_the_name(client):
    response = client.post(FORM, visitor_data(name="A" * 150))

    assert response.status_code == 400
    assert "at most 100 characters" in response.context["form"].errors["name"][0]
    assert not Lead.objects.exists()


def test_the_sixth_post_from_one_address_in_the_window_is_refused_and_stores_nothing(client):
    for n in range(5):
        assert client.post(FORM, visitor_data(email=f"visitor{n}@example.com")).status_code == 302

    response = client.post(FORM, visitor_data(email="visitor6@example.com", message="Call me on Tuesday, please."))

    html = response.content.decode()
    assert response.status_code == 429
    assert "Please try again a little later" in html
    # What the visitor typed is kept in the form, to send again later
    assert 'value="visitor6@example.com"' in html and "Call me on Tuesday, please." in html
    assert Lead.objects.count() == 5
    assert not Lead.objects.filter(email="visitor6@example.com").exists()


def test_another_address_is_not_held_back_by_a_flood_from_one(client):
    for n in range(6):
        client.post(FORM, visitor_data(email=f"visitor{n}@example.com"), REMOTE_ADDR="203.0.113.7")

    response = client.post(FORM, visitor_data(email="neighbour@example.com"), REMOTE_ADDR="198.51.100.9")

    assert response.status_code == 302
    assert Lead.objects.filter(email="neighbour@example.com").exists()


def test_reading_the_form_does_not_count_towards_the_limit(client):
    for _ in range(10):
        client.get(FORM)

    response = client.post(FORM, visitor_data())

    assert response.status_code == 302


@override_settings(LEAD_FORM_RATE="2/h")
def test_the_rate_comes_from_the_settings(client):
    client.post(FORM, visitor_data(email="one@example.com"))
    client.post(FORM, visitor_data(email="two@example.com"))

    response = client.post(FORM, visitor_data(email="three@example.com"))

    assert response.status_code == 429
    assert Lead.objects.count() == 2


def test_a_post_without_the_csrf_token_is_refused():
    csrf_client = Client(enforce_csrf_checks=True)

    response = csrf_client.post(FORM, visitor_data())

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_a_post_with_the_csrf_token_from_the_page_is_accepted():
    csrf_client = Client(enforce_csrf_checks=True)
    token = csrf_client.get(FORM).context["csrf_token"]

    response = csrf_client.post(FORM, {**visitor_data(), "csrfmiddlewaretoken": str(token)})

    assert response.status_code == 302
    assert Lead.objects.count() == 1


def test_the_page_has_no_staff_navigation_even_for_a_logged_in_rep(sales_client):
    html = sales_client.get(FORM).content.decode()

    assert 'aria-label="Main"' not in html
    assert "navbar" not in html
    assert reverse("contacts:contact_list") not in html
    assert "Log out" not in html


def test_the_form_and_thanks_pages_may_be_embedded_in_another_site(client):
    form = client.get(FORM)
    thanks = client.get(THANKS)

    assert "X-Frame-Options" not in form.headers
    assert "X-Frame-Options" not in thanks.headers


def test_staff_pages_still_refuse_to_be_framed(sales_client):
    response = sales_client.get(reverse("sales:lead_list"))

    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_form_has_no_inline_script_or_style(client):
    html = client.get(FORM).content.decode()

    assert "<script>" not in html and "<script " not in html
    assert "style=" not in html


def test_with_the_cache_down_the_lead_form_still_takes_leads(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    response = client.post(FORM, visitor_data(email="ada@cache.example"))

    assert response.status_code == 302
    assert Lead.objects.get().email == "ada@cache.example"
