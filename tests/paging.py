"""Helpers for the tests of paged lists: follow the Next links of a list page, and the `next` links of an API list."""

import html
import re

NEXT_LINK = re.compile(r'href="([^"]*)" rel="next"')
PREVIOUS_LINK = re.compile(r'href="([^"]*)" rel="prev"')


def page_link(response, pattern=NEXT_LINK) -> str | None:
    """The URL a list page's Next (or Previous) link goes to, None when it has none."""
    assert response.status_code == 200, response.content[:300]
    match = pattern.search(response.content.decode())
    return f"{response.wsgi_request.path}{html.unescape(match.group(1))}" if match else None


def walk_pages(client, url: str, params: dict | None = None, limit: int = 100) -> list:
    """Every page of a list page, from the first, following Next: the responses."""
    responses = [client.get(url, params or {})]
    while (link := page_link(responses[-1])) is not None:
        assert len(responses) < limit, "the Next links never end"
        responses.append(client.get(link))
    return responses


def walk_api(api_client, url: str, params: dict | None = None, limit: int = 100) -> list[dict]:
    """Every page of an API list, from the first, following `next`: the JSON bodies."""
    response = api_client.get(url, params or {})
    assert response.status_code == 200, response.content[:300]
    bodies = [response.json()]
    while bodies[-1]["next"]:
        assert len(bodies) < limit, "the next links never end"
        response = api_client.get(bodies[-1]["next"])
        assert response.status_code == 200, response.content[:300]
        bodies.append(response.json())
    return bodies
