"""manage.py import_records: its output and exit codes."""

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Company

pytestmark = pytest.mark.django_db


@pytest.fixture
def write_csv(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "file.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_a_good_file_is_imported_and_summed_up(write_csv, capsys):
    call_command("import_records", "companies", write_csv("external_id,name\nco-1,Acme\n"))

    assert "companies: 1 rows read, created 1, updated 0." in capsys.readouterr().out
    assert Company.objects.count() == 1


def test_a_bad_file_lists_its_problems_imports_nothing_and_exits_1(write_csv, capsys):
    with pytest.raises(CommandError) as raised:
        call_command("import_records", "companies", write_csv("external_id,name\nco-1,Acme\nco-2,\n"))

    assert raised.value.returncode == 1
    assert "nothing imported" in str(raised.value)
    assert "line 3, name: required: this cell is empty" in capsys.readouterr().err
    assert Company.objects.count() == 0


def test_skip_bad_rows_imports_the_good_ones_and_exits_0(write_csv, capsys):
    call_command("import_records", "companies", write_csv("external_id,name\nco-1,Acme\nco-2,\n"), skip_bad_rows=True)

    captured = capsys.readouterr()
    assert "line 3, name" in captured.err and "1 skipped" in captured.out
    assert Company.objects.count() == 1


def test_a_dry_run_writes_nothing_and_exits_0_when_the_file_is_good(write_csv, capsys):
    call_command("import_records", "companies", write_csv("external_id,name\nco-1,Acme\n"), dry_run=True)

    assert "Dry run, nothing written" in capsys.readouterr().out
    assert Company.objects.count() == 0


def test_a_dry_run_of_a_bad_file_exits_1(write_csv):
    with pytest.raises(CommandError) as raised:
        call_command("import_records", "companies", write_csv("external_id,name\nco-1,\n"), dry_run=True)

    assert raised.value.returncode == 1


def test_a_file_that_cannot_be_opened_exits_2(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("import_records", "companies", str(tmp_path / "missing.csv"))

    assert raised.value.returncode == 2


def test_an_unknown_kind_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_records", "unicorns", "file.csv")
