"""manage.py dispatch_pending: hand the work still waiting in the database (survey e-mails, import jobs) to
the broker, say after Redis was down. Beat does the same every minute, and a worker when it starts."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from crm_project import outbox


class Command(BaseCommand):
    help = "Queue again the work left pending in the database (unsent survey e-mails, unstarted import jobs)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Only work made at least this many seconds ago (default 0: everything pending).",
        )

    def handle(self, *args, older_than: int, **options):
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more seconds.")
        queued = outbox.dispatch_pending(older_than=datetime.timedelta(seconds=older_than))
        for name, count in queued.items():
            self.stdout.write(f"{name}: {count} task{'s' if count != 1 else ''} queued")
        if outbox.broker_failed_recently():
            raise CommandError("The broker (Redis) cannot be reached: the work stays pending; try again later.")
        self.stdout.write(self.style.SUCCESS("Done."))
