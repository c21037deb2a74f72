"""Logging in and out, passwords, the role groups, and what needs no login."""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from crm_project.roles import ROLE_NAMES, sync_roles

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # what tests.factories.UserFactory gives every user
NEW_PASSWORD = "a-much-longer-secret-42"
LOGIN = reverse("login")
DASHBOARD = reverse("dashboard")


def group_perms(role: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


# Logging in and out


def test_login_page_shows_the_form(client):
    response = client.get(LOGIN)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in html
    assert 'name="password"' in html


def test_login_with_the_right_password_opens_the_dashboard(client, sales_user):
    response = client.post(LOGIN, {"username": sales_user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200


def test_login_returns_to_the_page_asked_for(client, sales_user):
    contacts = reverse("contacts:contact_list")

    response = client.post(LOGIN, {"username": sales_user.username, "password": PASSWORD, "next": contacts})

    assert response.url == contacts


def test_login_with_a_wrong_password_says_so_and_keeps_the_username(client, sales_user):
    response = client.post(LOGIN, {"username": sales_user.username, "password": "not-my-password"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password." in html
    assert f'value="{sales_user.username}"' in html
    assert "_auth_user_id" not in client.session


def test_logout_by_post_ends_the_session(sales_client):
    response = sales_client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == LOGIN
    assert sales_client.get(DASHBOARD).status_code == 302


def test_logout_by_get_is_refused(sales_client):
    response = sales_client.get(reverse("logout"))

    assert response.status_code == 405
    assert sales_client.get(DASHBOARD).status_code == 200


def test_dashboard_needs_a_login(client):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={DASHBOARD}"


def test_password_change_lets_the_user_log_in_with_the_new_password(client, sales_user):
    client.force_login(sales_user)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    sales_user.refresh_from_db()
    assert sales_user.check_password(NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_is_refused(client, sales_user):
    client.force_login(sales_user)

    response = client.post(
        reverse("password_change"),
        {"old_password": "guess", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    sales_user.refresh_from_db()
    assert sales_user.check_password(PASSWORD)


def test_password_change_needs_a_login(client):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


# Roles


@pytest.mark.parametrize("role", ["sales", "support", "manager", "admin"])
def test_every_role_has_its_group(role):
    assert role in ROLE_NAMES
    assert Group.objects.filter(name=role).exists()


def test_sales_may_work_on_contacts_and_companies():
    perms = group_perms("sales")

    assert {
        "contacts.view_contact",
        "contacts.add_contact",
        "contacts.change_contact",
        "contacts.delete_contact",
        "contacts.add_company",
        "contacts.add_interaction",
    } <= perms


def test_only_managers_and_admins_may_import_history():
    may_import = {
        role for role in ("sales", "support", "manager", "admin") if "contacts.add_importjob" in group_perms(role)
    }

    assert may_import == {"manager", "admin"}


def test_sales_may_only_read_channels():
    perms = group_perms("sales")

    assert "contacts.view_channel" in perms
    assert not perms & {"contacts.add_channel", "contacts.change_channel", "contacts.delete_channel"}


def test_manager_may_only_view_contacts():
    contact_perms = {
        perm for perm in group_perms("manager") if perm.startswith("contacts.") and not perm.endswith("_importjob")
    }

    assert contact_perms == {
        "contacts.view_channel",
        "contacts.view_company",
        "contacts.view_contact",
        "contacts.view_interaction",
    }


def test_support_works_on_contacts_but_sees_nothing_of_sales():
    perms = group_perms("support")

    assert "contacts.change_contact" in perms
    assert not [perm for perm in perms if perm.startswith("sales.")]


def test_only_admin_may_manage_users():
    assert "auth.change_user" in group_perms("admin")
    assert not [role for role in ("sales", "support", "manager") if "auth.change_user" in group_perms(role)]


def test_user_gets_the_permissions_of_their_role(make_user):
    user = make_user("manager")

    assert user.has_perm("contacts.view_contact")
    assert not user.has_perm("contacts.add_contact")


def test_permissions_are_the_users_own_and_those_of_each_of_its_roles_and_a_superuser_has_all(make_user):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = make_user("manager")
    user.groups.add(Group.objects.get(name="support"))
    user.user_permissions.add(Permission.objects.get(codename="add_channel"))
    user = get_user_model().objects.get(pk=user.pk)  # no permission cache

    expected = group_perms("manager") | group_perms("support") | {"contacts.add_channel"}
    assert user.get_all_permissions() == expected
    assert user.has_perm("contacts.add_channel")
    assert sorted(Group.objects.filter(user=user).values_list("name", flat=True)) == ["manager", "support"]

    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    boss = get_user_model().objects.get(pk=boss.pk)
    every = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    assert boss.get_all_permissions() == every


def test_syncing_roles_again_changes_nothing():
    before = {role: group_perms(role) for role in ROLE_NAMES}

    sync_roles(apps)

    assert {role: group_perms(role) for role in ROLE_NAMES} == before


# Public pages


def test_health_is_reachable_without_login(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_admin_login_is_the_admin_own(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# Sessions and permissions read on each request


def test_a_session_ended_by_logging_out_cannot_be_used_again(client, sales_user):
    client.post(LOGIN, {"username": sales_user.username, "password": PASSWORD})
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("logout"))
    replayed = Client()
    replayed.cookies[settings.SESSION_COOKIE_NAME] = session_cookie

    response = replayed.get(DASHBOARD)

    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_a_role_taken_away_counts_on_the_next_request(client, manager_user):
    client.force_login(manager_user)
    assert client.get(reverse("kpis:overview")).status_code == 200

    manager_user.groups.clear()

    assert client.get(reverse("kpis:overview")).status_code == 403


def test_the_user_menu_names_the_roles(client, make_user):
    user = make_user("sales")
    user.groups.add(Group.objects.get(name="support"))
    client.force_login(user)

    html = client.get(DASHBOARD).content.decode()

    assert '<span class="dropdown-item-text small text-body-secondary">sales, support</span>' in html
