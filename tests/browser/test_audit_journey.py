"""A contact changed and then deleted by mistake; an administrator finds it among the deleted records,
restores it, and its History of changes tells the whole story."""

from django.urls import reverse
from playwright.sync_api import expect

from contacts.models import Contact
from tests.contacts.factories import ContactFactory, InteractionFactory


def test_an_administrator_restores_a_contact_deleted_by_mistake(page, log_in, make_user, page_watcher):
    # Given a contact with a call logged, which a sales rep edits and then deletes
    rep = make_user("sales", username="rita.rep", first_name="Rita", last_name="Reyes")
    admin = make_user("admin", username="ada.admin", first_name="Ada", last_name="Admin", is_staff=True)
    contact = ContactFactory(first_name="Grace", last_name="Hopper", phone="", company=None)
    InteractionFactory(contact=contact, summary="Asked for a quote.")
    log_in(rep)
    page.goto(reverse("contacts:contact_update", args=[contact.pk]))
    page.get_by_role("textbox", name="Phone", exact=True).fill("+1 555 0100")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("Deleted Grace Hopper.")

    # When the administrator opens the deleted records and restores it
    page.context.clear_cookies()
    log_in(admin)
    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="Deleted records").click()
    row = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row).to_contain_text("Rita Reyes (page)")
    expect(row).to_contain_text("Deleted with it: 1 interaction.")
    row.get_by_role("button", name="Restore").click()

    # Then the contact is back, call included, and its history shows who did what
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Restored the contact Grace Hopper.")
    expect(page.get_by_text("Asked for a quote.")).to_be_visible()
    page.get_by_text("History of changes").click()
    entries = page.locator("#history .history-entry")
    expect(entries.nth(0)).to_contain_text("Restored")
    expect(entries.nth(0)).to_contain_text("Ada Admin")
    expect(entries.nth(1)).to_contain_text("Deleted")
    expect(entries.nth(1)).to_contain_text("Rita Reyes")
    expect(entries.nth(2)).to_contain_text("Changed")
    expect(entries.nth(2).get_by_role("row", name="Phone")).to_contain_text("+1 555 0100")
    assert Contact.objects.get(pk=contact.pk).phone == "+1 555 0100"
    page_watcher.assert_clean()
