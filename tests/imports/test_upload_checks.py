"""Hostile or broken files on the import page: each is refused with a message that says what is wrong and what
to do, and nothing is stored. A file too large for the app is refused before its body is read."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from contacts.models import Company, ImportJob

pytestmark = pytest.mark.django_db

IMPORTS = reverse("contacts:import_list")
GOOD = b"external_id,name,industry\nco-1,Acme GmbH,Software\nco-2,Globex,Retail\n"


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def upload(client, content: bytes, *, name: str = "companies.csv", **extra):
    data = {"kind": "companies", "file": SimpleUploadedFile(name, content, content_type="text/csv")}
    return client.post(IMPORTS, data, **extra)


def refusal(response) -> str:
    """The form's error about the file, as the page shows it."""
    assert response.status_code == 400
    assert not ImportJob.objects.exists()
    return response.context["form"].errors["file"][0]


def real_xlsx() -> bytes:
    """A minimal spreadsheet as Excel writes it: a zip of XML parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        book.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet><sheetData/></worksheet>')
    return buffer.getvalue()


def test_an_xlsx_renamed_csv_is_refused_as_a_spreadsheet(manager_client):
    message = refusal(upload(manager_client, real_xlsx(), name="companies.csv"))

    assert message == (
        "This is a spreadsheet or another zipped file (.xlsx, .ods, .zip), not a CSV text file: "
        "save it as “CSV UTF-8” and upload that."
    )


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)), "an old Excel spreadsheet (.xls)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "an image"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "a gzip-compressed file"),
        ("external_id,name\nco-1,Acme\n".encode("utf-16"), "UTF-16 text (Excel’s “Unicode text”)"),
    ],
    ids=["xls", "pdf", "png", "gzip", "utf16"],
)
def test_a_binary_file_is_refused_and_named(manager_client, content, what):
    message = refusal(upload(manager_client, content))

    assert message.startswith(f"This is {what}, not a CSV text file")


def test_random_binary_data_is_refused_with_the_line_of_its_first_nul(manager_client):
    message = refusal(upload(manager_client, b"\x93\x01\x7fabc\n\x00\x10\xfe"))

    assert message == (
        "This is not a CSV text file: it holds binary data (line 2). Save it as “CSV UTF-8” and upload that."
    )


def test_a_csv_with_a_nul_byte_is_refused_with_its_line(manager_client):
    message = refusal(upload(manager_client, b"external_id,name\nco-1,Acme\nco-2,Glo\x00bex\n"))

    assert "it holds binary data (line 3)" in message


def test_a_nul_byte_far_into_a_large_file_is_found_too(manager_client):
    rows = b"".join(b"co-%d,Company %d\n" % (n, n) for n in range(120_000))  # about 2.3 MB
    content = b"external_id,name\n" + rows + b"co-x,Bad\x00Name\n"

    message = refusal(upload(manager_client, content))

    assert "it holds binary data (line 120002)" in message


def test_a_non_utf8_file_is_refused_with_the_line_to_fix(manager_client):
    message = refusal(upload(manager_client, "external_id,name\nco-1,Acme\nco-2,Müller KG\n".encode("cp1252")))

    assert message == "This file is not UTF-8 text (line 3): save it as “CSV UTF-8” and upload that."


def test_an_empty_file_is_refused(manager_client):
    message = refusal(upload(manager_client, b""))

    assert "empty" in message


def test_a_file_of_blank_lines_is_refused_as_empty(manager_client):
    message = refusal(upload(manager_client, b"\n \r\n\n"))

    assert message == "This file is empty."


@override_settings(IMPORT_MAX_UPLOAD_MB=1)
def test_a_file_over_the_size_limit_is_refused_with_the_limit(manager_client):
    content = GOOD + b"co-3,Initech,Software\n" * 60_000  # about 1.4 MB

    message = refusal(upload(manager_client, content))

    assert message == (
        "This file is 1.3 MB; the import page takes up to 1 MB (use `manage.py import_records` for larger files)."
    )


@override_settings(MAX_REQUEST_BODY_MB=1)
def test_a_request_too_large_for_the_app_is_refused_before_its_body_is_read(manager_user):
    # A client that enforces CSRF and sent no token: had anything read the body, it would be a 403.
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager_user)

    response = upload(client, GOOD + b"co-3,Initech,Software\n" * 60_000)

    assert response.status_code == 413
    assert "the largest accepted is 1 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


@override_settings(MAX_REQUEST_BODY_MB=1)
def test_an_api_request_too_large_is_refused_in_json(manager_api):
    response = manager_api.post("/api/companies/", {"name": "x" * (1024 * 1024 + 1)}, format="json")

    assert response.status_code == 413
    assert "the largest accepted is 1 MB" in response.json()["detail"]
    assert not Company.objects.exists()


def test_an_unclosed_quote_is_reported_on_the_line_it_opens(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, b'external_id,name\nco-1,Acme\nco-2,"Globex\nco-3,Initech\n')
    job = ImportJob.objects.get()

    page = manager_client.get(job.get_absolute_url()).content.decode()

    assert job.status == ImportJob.Status.CHECKED
    assert job.unreadable
    (problem,) = job.problems
    assert problem["line"] == 3  # where the quote opens, not the end of the file it runs to
    assert problem["reason"] == (
        'this line cannot be read as CSV: a quoted cell starts here and is never closed (a " is missing)'
    )
    assert "a quoted cell starts here and is never closed" in page
    assert not Company.objects.exists()


def test_a_file_with_a_header_and_no_rows_imports_nothing(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, b"external_id,name\n")
    job = ImportJob.objects.get()

    assert job.status == ImportJob.Status.CHECKED
    assert (job.good_rows, job.problem_count, Company.objects.count()) == (0, 0, 0)
