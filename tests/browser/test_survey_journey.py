"""A manager sends the NPS survey to a customer, who answers it on a phone from the e-mail's link."""

import re

from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from surveys.models import Invitation, Response
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, PageWatcher
from tests.contacts.factories import ContactFactory
from tests.surveys.factories import SurveyFactory

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
COMMENT = "Setting up the reports took a while, but support walked me through it. <b>Thanks!</b>"


def phone_page(browser, live_server):
    """A phone-sized browser with its own watcher: the customer's phone, not the manager's desk."""
    watcher = PageWatcher(live_server.url)
    context = browser.new_context(base_url=live_server.url, **PHONE)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.on("request", watcher.on_request)
    context.on("requestfailed", watcher.on_request_failed)
    page = context.new_page()
    page.on("console", watcher.on_console)
    page.on("pageerror", watcher.on_page_error)
    return context, page, watcher


def test_manager_sends_nps_and_the_customer_answers_it_on_a_phone(
    page, log_in, make_user, browser, live_server, settings, page_watcher, artifacts_dir
):
    # Given a manager, the NPS survey and a customer with an e-mail address
    settings.PUBLIC_BASE_URL = live_server.url  # the links in the e-mail lead to this server
    manager = make_user("manager", username="mia.manager", first_name="Mia", last_name="Moreau")
    survey = SurveyFactory(name="Customer NPS", question="How likely are you to recommend Nordwind to a colleague?")
    customer = ContactFactory(first_name="Greta", last_name="Lind", email="greta@nordwind.example")

    # When the manager sends the survey from the customer's page
    log_in(manager)
    page.goto(customer.get_absolute_url())
    panel = page.get_by_role("region", name="Surveys")
    expect(panel).to_contain_text("Never asked.")
    panel.get_by_role("link", name="Send Customer NPS").click()
    expect(page.get_by_role("heading", name="Send Customer NPS")).to_be_visible()
    expect(page.locator("#will-send")).to_have_text("1")
    page.get_by_role("button", name="Send to Greta Lind").click()

    # Then the survey's page says it is on its way, and the customer has the e-mail
    expect(page.get_by_role("alert")).to_contain_text("Customer NPS is on its way to Greta Lind.")
    assert page.url.endswith(survey.get_absolute_url())
    (message,) = mail.outbox
    assert message.to == ["greta@nordwind.example"]
    html = message.alternatives[0][0]
    score_links = {score: link for link, score in re.findall(r'href="([^"]+\?score=(\d+))"', html)}
    assert sorted(score_links, key=int) == [str(score) for score in range(11)]
    assert all(link.startswith(live_server.url + "/s/") for link in score_links.values())

    # When the customer taps "10" in the e-mail on her phone, the page opens with 10 chosen
    context, phone, watcher = phone_page(browser, live_server)
    try:
        phone.goto(score_links["10"])
        expect(phone.get_by_role("group", name=survey.question)).to_be_visible()
        expect(phone.get_by_role("radio", name="10")).to_be_checked()
        assert not Response.objects.exists(), "opening the link must not answer"
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "the page scrolls sideways"
        phone.screenshot(path=str(artifacts_dir / "survey_phone.png"), full_page=True)

        # ... changes her mind to 9 with a tap, adds a comment and sends
        phone.locator("label.score-button", has_text=re.compile(r"^9$")).tap()
        expect(phone.get_by_role("radio", name="9")).to_be_checked()
        phone.get_by_role("textbox", name=re.compile("Anything you would like to add")).fill(COMMENT)
        phone.get_by_role("button", name="Send").tap()

        # Then she is thanked, and her answer is stored once
        expect(phone.get_by_role("status")).to_contain_text("Thank you! Your answer is saved.")
        stored = Response.objects.get()
        assert (stored.score, stored.comment, stored.invitation.contact) == (9, COMMENT, customer)
        phone.screenshot(path=str(artifacts_dir / "survey_phone_thanks.png"), full_page=True)

        # When she opens the link again, it shows her answer, which she may still change for a day
        phone.goto(message.body.split("Answer here: ", 1)[1].split()[0])
        expect(phone.get_by_role("status")).to_contain_text("You can still change it for a day.")
        expect(phone.get_by_role("radio", name="9")).to_be_checked()
        expect(phone.get_by_role("textbox", name=re.compile("Anything you would like to add"))).to_have_value(COMMENT)
        expect(phone.get_by_role("button", name="Update my answer")).to_be_visible()
        assert Response.objects.count() == 1
        assert Invitation.objects.get().opened_at is not None

        # And nothing went wrong on the phone, nor left the server
        watcher.assert_clean()
    finally:
        context.close()

    # When the manager opens the responses page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    page.get_by_role("link", name="All responses").click()
    expect(page.get_by_role("heading", name="Survey responses")).to_be_visible()

    # Then she sees Greta's answer, the comment shown as text
    first_row = page.get_by_role("row").nth(1)
    expect(first_row).to_contain_text("Greta Lind")
    expect(first_row).to_contain_text("9")
    expect(first_row).to_contain_text(COMMENT)
    assert page.url.endswith(reverse("surveys:response_list"))
    page_watcher.assert_clean()
