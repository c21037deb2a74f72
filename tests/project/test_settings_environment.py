"""Settings read from the environment: a number that is not one stops start-up with a message that names it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def start(**variables: str) -> subprocess.CompletedProcess:
    """A process that loads the settings and prints a few, with these variables set (as text, as a shell would)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm_project.settings", "SECRET_KEY": "test-only", **variables}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.KPI_REFRESH_WORKERS, settings.KPI_GROSS_MARGIN, settings.EMAIL_PORT, "
        "settings.MAX_REQUEST_BODY_MB)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_numbers_are_read_and_an_empty_variable_means_the_default():
    result = start(KPI_REFRESH_WORKERS="3", KPI_GROSS_MARGIN="0.35", EMAIL_PORT="", IMPORT_MAX_UPLOAD_MB="9")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "0.35", "25", "10"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KPI_REFRESH_WORKERS", "two", "KPI_REFRESH_WORKERS must be a whole number, not 'two'."),
        ("KPI_REFRESH_WORKERS", "1.5", "KPI_REFRESH_WORKERS must be a whole number, not '1.5'."),
        ("KPI_CLOSING_DAYS", "0", "KPI_CLOSING_DAYS must be at least 1, not '0'."),
        ("KPI_GROSS_MARGIN", "-0.2", "KPI_GROSS_MARGIN must be at least 0, not '-0.2'."),
        ("KPI_GROSS_MARGIN", "nan", "KPI_GROSS_MARGIN must be a number, not 'nan'."),
        ("CACHE_TIMEOUT_SECONDS", "half", "CACHE_TIMEOUT_SECONDS must be a number, not 'half'."),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number, not 'smtp'."),
        ("EMAIL_PORT", "70000", "EMAIL_PORT must be at most 65535, not '70000'."),
        # a margin given in per cent would multiply every lifetime value by up to a hundred
        ("KPI_GROSS_MARGIN", "35", "KPI_GROSS_MARGIN must be at most 1, not '35'."),
    ],
)
def test_a_setting_that_is_not_a_number_stops_start_up_with_a_message_naming_it(variable, value, message):
    # The cache's timeouts are read when there is a Redis to talk to (none is contacted to load the settings).
    result = start(REDIS_URL="redis://127.0.0.1:6379/0", **{variable: value})

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"django.core.exceptions.ImproperlyConfigured: {message}"
