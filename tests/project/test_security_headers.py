"""Security headers and settings: a strict Content-Security-Policy on every page (no inline script, no eval,
nothing may frame us), templates free of inline script, secure cookies and a clean `check --deploy` in
production."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.surveys.factories import InvitationFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "correct-horse-battery"  # UserFactory's
DEPLOY_ENV = {
    "SECRET_KEY": "a-long-random-secret-for-the-deploy-check-only-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "crm.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_strict(directives: dict[str, list[str]]):
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    everything = [source for sources in directives.values() for source in sources]
    assert "'unsafe-inline'" not in everything
    assert "'unsafe-eval'" not in everything


# The policy on the pages


@pytest.fixture
def admin_client(client, admin_role_user):
    client.force_login(admin_role_user)
    return client


@pytest.mark.parametrize(
    "path", ["/", "/contacts/", "/kpis/", "/admin/", "/admin/contacts/contact/", "/api/docs/", "/api/contacts/"]
)
def test_staff_pages_carry_the_strict_policy(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    directives = policy(response)
    assert_strict(directives)
    assert directives["frame-ancestors"] == ["'none'"]


def test_the_login_page_carries_the_strict_policy(client):
    response = client.get(reverse("login"))

    assert_strict(policy(response))
    assert policy(response)["frame-ancestors"] == ["'none'"]


def test_the_public_survey_page_carries_the_strict_policy(client):
    InvitationFactory(token="csp-token-0001-abcdefghijklmnop")

    response = client.get("/s/csp-token-0001-abcdefghijklmnop/")

    assert response.status_code == 200
    assert_strict(policy(response))
    assert policy(response)["frame-ancestors"] == ["'none'"]


def test_the_public_lead_form_may_be_framed_by_websites_but_stays_strict(client):
    response = client.get(reverse("sales:public_lead_form"))

    directives = policy(response)
    assert directives["frame-ancestors"] == settings.LEAD_FORM_FRAME_ANCESTORS
    assert_strict(directives)


def test_pages_refuse_framing_sniffing_and_leaking_the_referrer(admin_client):
    response = admin_client.get("/")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_api_docs_load_their_start_up_script_as_a_file(admin_client):
    html = admin_client.get("/api/docs/").content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "no script on the docs page"
    assert all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assert "<style" not in html


# The templates: nothing inline that the policy would refuse

INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


TEMPLATE_COMMENT = re.compile(r"{#[^\n]*?#}|{% comment %}.*?{% endcomment %}", re.S)  # {# #} is one line only


def page_templates():
    for path in sorted((BASE_DIR / "templates").rglob("*.html")):
        if "email" in path.relative_to(BASE_DIR / "templates").parts:
            continue  # e-mails are read in mail clients, which need inline styles and apply no CSP
        yield path


@pytest.mark.parametrize("path", list(page_templates()), ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_no_template_has_inline_script_handlers_or_styles(path):
    text = TEMPLATE_COMMENT.sub("", path.read_text())

    found = [what for what, pattern in INLINE.items() if pattern.search(text)]

    assert found == []


def test_the_template_check_sees_inline_script_and_handlers():
    samples = [
        "<script>alert(1)</script>",
        '<button onclick="go()">',
        '<div style="color: red">',
        "<style>p {}</style>",
        '<a href="javascript:go()">',
    ]

    assert all(any(pattern.search(sample) for pattern in INLINE.values()) for sample in samples)
    assert not any(pattern.search('<script src="/static/js/kpis.js" defer></script>') for pattern in INLINE.values())


# Production settings: cookies and `check --deploy`


@pytest.fixture
def production_settings(monkeypatch) -> dict:
    """The settings module as production loads it: DEBUG off, a secret, nothing of the test settings."""
    for name in ("DEBUG", "SECURE_COOKIES", "STATIC_MANIFEST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", DEPLOY_ENV["SECRET_KEY"])
    return runpy.run_path(str(BASE_DIR / "crm_project" / "settings.py"))


def test_production_cookies_are_secure_http_only_and_same_site_lax(production_settings):
    for cookie in ("SESSION", "CSRF"):
        assert production_settings[f"{cookie}_COOKIE_SECURE"] is True
        assert production_settings[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert production_settings[f"{cookie}_COOKIE_SAMESITE"] == "Lax"


def test_production_answers_with_the_strict_policy(production_settings):
    assert production_settings["CONTENT_SECURITY_POLICY"] == settings.CONTENT_SECURITY_POLICY
    assert "csp.middleware.CSPMiddleware" in production_settings["MIDDLEWARE"]


def test_the_login_cookies_carry_the_production_flags(client, sales_user, production_settings):
    flags = {
        name: production_settings[name]
        for cookie in ("SESSION", "CSRF")
        for name in (f"{cookie}_COOKIE_SECURE", f"{cookie}_COOKIE_HTTPONLY", f"{cookie}_COOKIE_SAMESITE")
    }
    with override_settings(**flags):
        client.get(reverse("login"))
        response = client.post(reverse("login"), {"username": sales_user.username, "password": PASSWORD})

    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies[name]
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def test_the_deploy_check_passes_with_the_production_settings():
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECURE_COOKIES")}
    env.update(DEPLOY_ENV, DJANGO_SETTINGS_MODULE="crm_project.settings")

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
