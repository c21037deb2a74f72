"""manage.py import_records KIND FILE.csv [--dry-run] [--skip-bad-rows]: see docs/import-format.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.context import acting
from audit.models import AuditEntry
from contacts import registry
from contacts.importing import records_import


class Command(BaseCommand):
    # A data command: the system checks (URLs, templates, security settings) say nothing about a file's rows
    # and cost half a second before every import; the server and `manage.py check --deploy` run them.
    requires_system_checks = []
    help = (
        "Import records of one kind from a CSV file (UTF-8, a header row; docs/import-format.md). "
        "Exit code 0: imported (or, with --dry-run, would import); 1: nothing imported because of problems, "
        "which are listed with their line and column; 2: the file cannot be opened."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(registry.importers()), help="what the file holds")
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")
        parser.add_argument("--skip-bad-rows", action="store_true", help="import the good rows and list the bad ones")

    def handle(self, *args, kind, file, dry_run, skip_bad_rows, verbosity, **options):
        try:
            stream = open(file, "rb")  # noqa: SIM115 (closed below, after the import)
        except OSError as error:
            raise CommandError(f"Cannot open {file}: {error.strerror}.", returncode=2) from None

        def progress(rows: int) -> None:
            if verbosity >= 2:
                self.stderr.write(f"  {rows:,} rows read")

        # The audit trail names no user for the command line: "system", with the file's name.
        with stream, acting(source=AuditEntry.Source.IMPORT, note=f"import_records {kind} {Path(file).name}"):
            result = records_import(
                kind=kind, stream=stream, dry_run=dry_run, skip_bad_rows=skip_bad_rows, progress=progress
            )
        for problem in result.problems:
            self.stderr.write(str(problem))
        for note in result.notes:
            self.stdout.write(f"{'Would add' if not result.imported else 'Added'} {note}")
        summary = result.summary()
        if dry_run:
            summary = f"Dry run, nothing written. {summary}"
        if result.exit_code:
            raise CommandError(summary, returncode=result.exit_code)
        self.stdout.write(self.style.SUCCESS(summary))
