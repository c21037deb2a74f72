import html
import re

import pytest
from django.test import Client

from crm_project.templatetags.crm import display_name

HISTORY = re.compile(r'<section class="card mt-3" id="history".*?</section>', re.DOTALL)


def history_section(response) -> str:
    """The History section of a record's page, as text with the markup stripped and spaces squeezed."""
    assert response.status_code == 200
    match = HISTORY.search(response.content.decode())
    assert match, "the page has no History section"
    return text_of(match.group(0))


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def table_rows(response) -> list[str]:
    """The rows of the page's tables, as text."""
    assert response.status_code == 200
    return [text_of(row) for row in response.content.decode().split("<tr")[1:]]


def entries_of(section: str) -> list[str]:
    """The History section split into its entries (newest first), each as text."""
    return [part.strip() for part in re.split(r"(?=\b(?:Created|Changed|Deleted|Restored) \d{4}-)", section)][1:]


def name(user) -> str:
    return display_name(user)


@pytest.fixture
def admin_client(admin_role_user):
    """A browser of its own, logged in as an administrator (beside the `client` of other users)."""
    client = Client()
    client.force_login(admin_role_user)
    return client
