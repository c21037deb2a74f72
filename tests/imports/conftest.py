"""Helpers of the import tests: files are written as text here and imported from memory."""

import io

import pytest

from contacts.importing import records_import


def csv_bytes(text: str, *, bom: bool = False) -> bytes:
    """A CSV file from an indented block of lines (leading spaces of each line dropped)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return (b"\xef\xbb\xbf" if bom else b"") + ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def import_csv(db):
    """import_csv(kind, text_or_bytes, dry_run=..., skip_bad_rows=...) -> ImportResult."""

    def run(kind: str, content, **options):
        data = content if isinstance(content, bytes) else csv_bytes(content)
        return records_import(kind=kind, stream=io.BytesIO(data), **options)

    return run


def problems(result) -> list[tuple[int, str]]:
    """(line, column) of every problem, to compare with what a test expects."""
    return [(problem.line, problem.column) for problem in result.problems]


def reasons(result) -> str:
    return " | ".join(str(problem) for problem in result.problems)


@pytest.fixture
def staff(make_user):
    """The users the example files name."""
    return {
        "sales": make_user("sales", username="sales", email="sales@example.com"),
        "support": make_user("support", username="support", email="support@example.com"),
    }
