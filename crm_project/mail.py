"""E-mails that must go once: survey invitations, agents' replies.

Each record that holds an e-mail to send is its own outbox row. `send_each_once` claims it (row locked, SKIP
LOCKED) and marks it sent in the transaction that sends it: two workers given the same ids send each e-mail
once, a worker killed mid-batch leaves the unsent ones pending for the next run, and a failed send marks
nothing. An address the mail server refuses fails the same way every time: it is given up, so that the outbox
does not offer it forever.
"""

from collections.abc import Callable, Iterable
from smtplib import SMTPRecipientsRefused

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet

REFUSED = "The mail server refused the address."


def send_each_once(
    *,
    unsent: QuerySet,
    ids: Iterable[int],
    prepare: Callable[[object], EmailMessage | str],
    give_up: Callable[[list[int], str], None],
) -> int:
    """Send the e-mail of each row of `unsent` (the rows not sent yet) among `ids`; returns how many went.

    `prepare(row)`, inside the row's transaction, marks it sent (saving it) and returns its e-mail, or returns
    the reason to give it up without sending. `give_up(ids, reason)` records that reason on those rows."""
    sent, refused = 0, []
    with get_connection() as connection:
        for pk in ids:
            with transaction.atomic():
                row = unsent.select_for_update(of=("self",), skip_locked=True).filter(pk=pk).first()
                if row is None:
                    continue  # sent already, or being sent by another worker right now
                email = prepare(row)
                if isinstance(email, str):
                    give_up([pk], email)
                    continue
                try:  # sent inside the transaction: if sending fails, nothing is marked sent and a retry sends it
                    connection.send_messages([email])
                except SMTPRecipientsRefused:
                    transaction.set_rollback(True)
                    refused.append(pk)
                    continue
                sent += 1
    if refused:
        give_up(refused, REFUSED)
    return sent
