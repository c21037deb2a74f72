"""`next=` only ever leads back into the CRM: the login, the logout, the admin's and every view that takes one
refuse another site, however it is spelled, and land on their own page instead."""

import pytest
from django.urls import reverse

from tests.sales.factories import DealFactory, LeadFactory, stage

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's
ELSEWHERE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "///evil.example",
    "https:evil.example",
]
LOGIN = reverse("login")
DASHBOARD = reverse("dashboard")


@pytest.mark.parametrize("target", ELSEWHERE)
def test_logging_in_never_leads_to_another_site(client, sales_user, target):
    response = client.post(LOGIN, {"username": sales_user.username, "password": PASSWORD, "next": target})

    assert response.status_code == 302
    assert response.url == DASHBOARD


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_login_page_does_not_carry_another_site_into_its_form(client, target):
    response = client.get(LOGIN, {"next": target})

    assert 'name="next" value=""' in response.content.decode()


@pytest.mark.parametrize("target", ELSEWHERE)
def test_logging_out_never_leads_to_another_site(sales_client, target):
    response = sales_client.post(reverse("logout"), {"next": target})

    assert response.status_code == 302
    assert response.url == LOGIN


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_admin_login_never_leads_to_another_site(client, admin_role_user, target):
    response = client.post(
        reverse("admin:login"), {"username": admin_role_user.username, "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response.url == DASHBOARD


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_admin_logout_never_leads_to_another_site(client, admin_role_user, target):
    client.force_login(admin_role_user)

    response = client.post(reverse("admin:logout"), {"next": target})

    assert response.status_code == 302
    assert response.url == LOGIN


@pytest.mark.parametrize("target", ELSEWHERE)
def test_assigning_leads_never_leads_to_another_site(sales_client, sales_user, target):
    lead = LeadFactory(owner=sales_user)

    response = sales_client.post(
        reverse("sales:lead_assign"), {"leads": [lead.pk], "owner": sales_user.pk, "next": target}
    )

    assert response.url == reverse("sales:lead_list")


@pytest.mark.parametrize("target", ELSEWHERE)
def test_moving_a_deal_never_leads_to_another_site(sales_client, sales_user, target):
    deal = DealFactory(owner=sales_user)

    response = sales_client.post(
        reverse("sales:deal_move", args=[deal.pk]), {"stage": stage("Proposal").pk, "next": target}
    )

    assert response.status_code == 302
    assert response.url == deal.get_absolute_url()


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_lost_reason_page_does_not_link_to_another_site(sales_client, sales_user, target):
    deal = DealFactory(owner=sales_user)

    response = sales_client.get(reverse("sales:deal_lose", args=[deal.pk]), {"next": target})

    html = response.content.decode()
    assert response.status_code == 200
    assert "evil.example" not in html
    assert f'href="{deal.get_absolute_url()}"' in html
