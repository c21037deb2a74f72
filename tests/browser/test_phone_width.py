"""Staff read records on a phone too: at 390 px wide, no page scrolls sideways; a wide table scrolls in its own box."""

import pytest

from sales import services as sales_services
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, stage
from tests.support.factories import TicketFactory

PHONE_WIDTH = 390


@pytest.fixture
def records(make_user):
    admin = make_user("admin", username="ada.administrator.of.the.northern.region", is_staff=True, is_superuser=True)
    contact = ContactFactory(first_name="Bartholomew", last_name="Featherstonehaugh-Whittingham")
    deal = DealFactory(title="Annual maintenance contract for the northern warehouses", contact=contact, owner=admin)
    for name in ("Needs analysis", "Proposal", "Negotiation"):  # a stage history with long names and a person
        sales_services.deal_move_stage(deal=deal, stage=stage(name), actor=admin)
    ticket = TicketFactory(contact=contact, subject="The invoice export stops at the first accented character")
    return admin, contact, deal, ticket


def test_record_and_kpi_pages_fit_a_phone(page, log_in, records):
    admin, contact, deal, ticket = records
    log_in(admin)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    pages = [
        deal.get_absolute_url(),
        contact.get_absolute_url(),
        ticket.get_absolute_url(),
        "/deals/",
        "/contacts/",
        "/kpis/",
        "/kpis/revenue/",
        "/kpis/targets/",
        "/kpis/digest/",
    ]

    too_wide = {}
    for url in pages:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH:
            too_wide[url] = width

    assert too_wide == {}
