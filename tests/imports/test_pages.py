"""The import page: upload, preview with the problems, confirm, progress, summary; for managers and admins."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from contacts.models import Company, ImportJob

pytestmark = pytest.mark.django_db
GOOD = b"external_id,name,industry\nco-1,Acme GmbH,Software\nco-2,Globex,Retail\n"
ONE_BAD = b"external_id,name,industry\nco-1,Acme GmbH,Software\nco-2,,Retail\nco-3,Initech,\n"


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def upload(client, content: bytes, *, kind="companies", name="companies.csv", **extra):
    data = {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="text/csv"), **extra}
    return client.post(reverse("contacts:import_list"), data)


def test_a_manager_checks_a_file_then_imports_it(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, GOOD)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (job.status, job.created_count, Company.objects.count()) == ("checked", 2, 0)
    page = manager_client.get(job.get_absolute_url()).content.decode()
    assert "Acme GmbH" in page and "Would be created" in page and "Import 2 rows" in page

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("contacts:import_confirm", args=[job.pk]), {"skip_bad_rows": "0"})

    job.refresh_from_db()
    assert (job.status, job.created_count, job.rows_done) == ("done", 2, 2)
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Acme GmbH", "Globex"]
    assert "created 2" in manager_client.get(job.get_absolute_url()).content.decode()


def test_the_preview_lists_the_problems_and_offers_the_good_rows_only(
    manager_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, ONE_BAD)
    job = ImportJob.objects.get()

    page = manager_client.get(job.get_absolute_url()).content.decode()

    assert job.problems == [{"line": 3, "column": "name", "reason": "required: this cell is empty"}]
    assert "<td>3</td><td>name</td>" in page and "Import the 2 good rows only" in page
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("contacts:import_confirm", args=[job.pk]), {"skip_bad_rows": "1"})
    job.refresh_from_db()
    assert (job.status, job.created_count, job.bad_rows, Company.objects.count()) == ("done", 2, 1, 2)


def test_a_file_that_cannot_go_in_cannot_be_confirmed(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, b"external_id,colour\nco-1,blue\n")
    job = ImportJob.objects.get()

    response = manager_client.post(
        reverse("contacts:import_confirm", args=[job.pk]), {"skip_bad_rows": "1"}, follow=True
    )

    assert "Nothing in this file can be imported" in response.content.decode()
    job.refresh_from_db()
    assert (job.status, Company.objects.count()) == ("checked", 0)


def test_an_import_cannot_be_started_twice(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, GOOD)
    job = ImportJob.objects.get()
    confirm = reverse("contacts:import_confirm", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(confirm, {"skip_bad_rows": "0"})

    response = manager_client.post(confirm, {"skip_bad_rows": "0"}, follow=True)

    assert "cannot be started again" in response.content.decode()
    assert Company.objects.count() == 2


def test_while_the_job_works_the_page_polls_a_progress_bar(manager_client, manager_user):
    job = ImportJob.objects.create(
        kind="companies", file_name="big.csv", content=GOOD, rows_total=200, created_by=manager_user
    )

    response = manager_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert 'id="import-status"' in html and 'hx-trigger="every 1s"' in html and "<progress" in html
    assert "<html" not in html  # the partial only


def test_a_finished_job_stops_polling(manager_client, manager_user):
    job = ImportJob.objects.create(
        kind="companies", file_name="big.csv", content=GOOD, status="done", created_by=manager_user
    )

    html = manager_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()

    assert "hx-trigger" not in html and "<progress" not in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00binary spreadsheet", "not a CSV text file"),
        (b"external_id,name\nco-1,Acme\x00\n", "not a CSV text file"),
        ("external_id,name\nco-1,Café\n".encode("latin-1"), "not UTF-8 text (line 2)"),
        (b"", "empty"),
    ],
)
def test_a_binary_or_non_utf8_file_is_refused_with_a_clear_message(manager_client, content, message):
    response = upload(manager_client, content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


@override_settings(IMPORT_MAX_UPLOAD_MB=0)
def test_a_file_over_the_size_limit_is_refused(manager_client):
    response = upload(manager_client, GOOD)

    assert response.status_code == 400
    assert "takes up to 0 MB" in response.content.decode()


def test_the_navigation_links_the_import_page_for_managers_and_admins(
    client, manager_user, admin_role_user, sales_user
):
    for user, shown in ((manager_user, True), (admin_role_user, True), (sales_user, False)):
        client.force_login(user)
        page = client.get(reverse("dashboard")).content.decode()
        assert (reverse("contacts:import_list") in page) is shown


@pytest.mark.parametrize("role", ["sales", "support"])
def test_sales_and_support_may_not_import(client, make_user, manager_user, role):
    job = ImportJob.objects.create(kind="companies", file_name="f.csv", content=GOOD, created_by=manager_user)
    client.force_login(make_user(role))

    assert client.get(reverse("contacts:import_list")).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert client.get(job.get_absolute_url()).status_code == 403
    assert client.post(reverse("contacts:import_confirm", args=[job.pk])).status_code == 403


def test_an_administrator_may_import(client, admin_role_user):
    client.force_login(admin_role_user)

    assert client.get(reverse("contacts:import_list")).status_code == 200


def test_the_preview_shows_the_first_rows_with_their_line_numbers(manager_client):
    upload(manager_client, b'external_id,name\n\nco-1,"Acme\nGmbH"\nco-2,Globex\n')

    preview = ImportJob.objects.get().preview

    assert preview == {
        "header": ["external_id", "name"],
        "rows": [{"line": 3, "cells": ["co-1", "Acme\nGmbH"]}, {"line": 5, "cells": ["co-2", "Globex"]}],
    }


def test_the_import_page_says_what_each_file_holds_and_offers_an_example(manager_client):
    page = manager_client.get(reverse("contacts:import_list")).content.decode()

    assert "What each file holds" in page
    assert "<summary>Survey responses <a" in page
    assert '<strong><code>ordered_at</code></strong> <span class="text-body-secondary">(time)</span>' in page
    assert '<code>domain</code> <span class="text-body-secondary">(text (max 253))</span>: web domain' in page
    assert 'href="/imports/examples/orders.csv"' in page


def test_an_example_file_downloads_and_imports_as_it_is(manager_client, import_csv, staff):
    response = manager_client.get("/imports/examples/companies.csv")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="companies.csv"'
    result = import_csv("companies", b"".join(response.streaming_content))
    assert result.imported and not result.problems


def test_an_example_of_an_unknown_kind_is_a_404_and_the_examples_are_for_importers(manager_client, client, sales_user):
    assert manager_client.get("/imports/examples/passwords.csv").status_code == 404
    client.force_login(sales_user)
    assert client.get("/imports/examples/companies.csv").status_code == 403
