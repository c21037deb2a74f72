"""manage.py seed_demo --size small|medium|large [--seed N]: realistic, deterministic demo data."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from contacts.demo import (
    DEMO_PASSWORD,
    DEMO_SIZES,
    DEMO_USERS,
    DemoContext,
    MissingRolesError,
    ensure_demo_users,
    seed_contacts,
)
from contacts.registry import demo_seeders


class Command(BaseCommand):
    help = (
        "Fill the database with realistic demo data and demo users, one per role. The same seed gives the same "
        "data; running it again adds nothing and resets the demo users' passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            default="small",
            choices=list(DEMO_SIZES),
            help="small: %(small)s contacts; medium: %(medium)s; large: %(large)s (default: small)."
            % {name: f"{size.contacts:,}" for name, size in DEMO_SIZES.items()},
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default: 1).")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off (the demo users' password is printed for all to see).",
        )

    def handle(self, *args, size, seed, force, verbosity, **options):
        if size not in DEMO_SIZES:  # call_command(size=...) skips argparse's choices
            raise CommandError(f"Unknown size {size!r}: choose one of {', '.join(DEMO_SIZES)}.")
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like a real deployment. seed_demo creates users with a published password "
                "(admin is a superuser) and resets theirs if they exist; pass --force to seed it anyway."
            )
        log = self.stdout.write if verbosity >= 1 else (lambda message: None)
        started = time.monotonic()
        dimensions = DEMO_SIZES[size]
        log(f"Seeding demo data: size {size} ({dimensions.contacts:,} contacts), seed {seed}.")

        try:
            with transaction.atomic():
                users = ensure_demo_users()
        except MissingRolesError as error:
            raise CommandError(str(error)) from error
        context = DemoContext(size=size, seed=seed, users=users, log=log)

        for name, seeder in (("contacts", seed_contacts), *demo_seeders()):
            log(f"{name}:")
            step_started = time.monotonic()
            with transaction.atomic():
                seeder(context)
            log(f"  {name} done in {time.monotonic() - step_started:.1f} s")

        if any(new for new, _ in context.created.values()):
            # Written in bulk, without the saves' stale marks: the next periodic KPI refresh recomputes all history
            # (rather than what the last refresh kept of it, kpis.rollups).
            from kpis.services import kpis_mark_stale  # here: kpis reads every app, contacts included
            from kpis.stale import ALL_HISTORY

            kpis_mark_stale(since=ALL_HISTORY, reason="seed_demo")

        if connection.vendor == "postgresql":
            # Fresh statistics: without them the planner takes the bulk-loaded tables for empty ones and picks
            # plans (nested loops, sorts on disk) that make the first KPI refresh several times slower.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        if verbosity >= 1:
            self._print_summary(context, time.monotonic() - started)

    def _print_summary(self, context: DemoContext, seconds: float) -> None:
        rows = [(label, f"{new:,}", f"{total:,}") for label, (new, total) in context.created.items()]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {seconds:.1f} s."))
        self._table(("records", "new", "demo total"), rows)
        self.stdout.write("")
        self.stdout.write("Log in with:")
        self._table(
            ("username", "password", "role"), [(user.username, DEMO_PASSWORD, user.role) for user in DEMO_USERS]
        )

    def _table(self, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        widths = [max(len(str(row[column])) for row in (header, *rows)) for column in range(len(header))]
        for row in (header, tuple("-" * width for width in widths), *rows):
            self.stdout.write(
                "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
