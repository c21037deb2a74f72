"""Send the weekly KPI digest now (what beat does on Mondays), or show who would get it."""

from django.core.management.base import BaseCommand

from kpis.digest import digest_content, digest_recipients, kpis_digest_send


class Command(BaseCommand):
    help = (
        "E-mail last week's KPI digest to every active manager with an e-mail address who has not had it "
        "(each gets one a week, however often this runs); --dry-run only lists them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Send nothing: list the recipients and the movers.")

    def handle(self, *args, dry_run=False, **options):
        recipients = digest_recipients()
        if not recipients:
            self.stdout.write("No active manager has an e-mail address: the digest goes to nobody.")
            return
        if dry_run:
            content = digest_content()
            self.stdout.write(f"The digest of week {content['week'].label()} would go to:")
            for user in recipients:
                self.stdout.write(f"  {user.username} <{user.email}>")
            self.stdout.write(
                f"It lists {len(content['movers'])} KPIs that moved and {len(content['off_target'])} off target."
            )
            return
        sent = kpis_digest_send()
        skipped = len(recipients) - sent
        had = f"; {skipped} had this week's already" if skipped else ""
        self.stdout.write(self.style.SUCCESS(f"Sent the digest to {sent} of {len(recipients)} managers{had}."))
