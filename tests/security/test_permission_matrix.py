"""Who may reach what: every URL pattern and API route, for every role and every method the view answers.

The routes come from the URL configuration (tests/security/routes.py), the expected answers from
tests/security/permission_matrix.txt. A new page, route or admin model fails here until the table says who
may reach it; a view that starts answering another method fails until the table says what that answer is.
Records in the URLs belong to other users (tests/security/world.py).
"""

import pytest
from django.db import transaction

from .matrix import ADMIN_INDEX, LOGIN_PAGES, PUBLIC, ask, client_for, parameter_values, read_table, request_writes
from .routes import all_routes
from .world import ROLES

ROUTES = all_routes()
TABLE = read_table()


def _case_id(route) -> str:
    return f"{route.key}{'[.format]' if 'format' in route.parameters else ''}"


CASES = [pytest.param(route, role, id=f"{_case_id(route)}-{role}") for route in ROUTES for role in ROLES]


# The table itself ---------------------------------------------------------------------------------------------


def test_every_url_pattern_has_a_row_in_the_table():
    missing = sorted({route.key for route in ROUTES} - set(TABLE))

    assert not missing, (
        "These URLs are not in tests/security/permission_matrix.txt; add a row per method saying what each role "
        f"gets: {', '.join(missing)}"
    )


def test_every_row_of_the_table_is_a_url_pattern():
    stale = sorted(set(TABLE) - {route.key for route in ROUTES})

    assert not stale, f"These rows name no URL any more; remove them: {', '.join(stale)}"


def test_the_table_lists_exactly_the_methods_each_view_answers():
    wrong = {
        route.key: (sorted(route.handled_methods()), sorted(TABLE[route.key]))
        for route in ROUTES
        if route.key in TABLE and set(route.handled_methods()) != set(TABLE[route.key])
    }

    assert not wrong, f"view answers / table lists: {wrong}"


def test_anonymous_visitors_get_nothing_but_the_public_pages():
    # Pages send them to the login (302), the API answers 401; only the listed public pages answer them.
    let_in = {
        (key, method): statuses["anonymous"]
        for key, methods in TABLE.items()
        for method, statuses in methods.items()
        if key not in PUBLIC and statuses["anonymous"] not in (302, 401)
    }

    assert not let_in, f"anonymous visitors would get: {let_in}"


# Asking ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "role"), CASES)
def test_each_role_gets_the_answer_of_the_table(route, role, world, db):
    if route.key not in TABLE:
        pytest.fail(f"{route.key} has no row in permission_matrix.txt", pytrace=False)
    url = route.url(parameter_values(route, world))
    wrong = {}
    for method, statuses in TABLE[route.key].items():
        client, headers = client_for(world, role, route)
        with transaction.atomic():  # every method sees the same records: undo what this one changed
            response, writes = request_writes(client, url, method, api=route.is_api, headers=headers)
            transaction.set_rollback(True)
        expected = statuses[role]
        location = response.get("Location", "")
        sent_to_login = location.startswith(LOGIN_PAGES) or (role == "anonymous" and location == ADMIN_INDEX)
        if response.status_code != expected:
            wrong[method] = f"{response.status_code}, expected {expected}"
        elif (expected in (401, 403, 405) or sent_to_login) and writes:
            wrong[method] = f"refused ({expected}) but wrote: {writes}"
        elif role == "anonymous" and route.key not in PUBLIC and expected == 302 and not sent_to_login:
            wrong[method] = f"redirected to {location}, not to a login page"

    assert not wrong, f"{role} at {url}: {wrong}"


def test_a_refused_api_call_says_who_is_asking_is_unknown(world, db):
    # Token first among the authentication classes: its challenge makes an anonymous call a 401, not a 403.
    route = next(route for route in ROUTES if route.key == "contact-list")
    client, headers = client_for(world, "anonymous", route)

    response = ask(client, route.url({}), "GET", api=True, headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
