"""Work for the Celery worker, kept in the database until it is done (a transactional outbox).

A service writes the rows of the work to do (an unsent survey invitation, an import job waiting for its
check) in its own transaction and asks `enqueue_on_commit(task, ...)`. When the broker takes the message, a
worker does the work at once. When Redis is down, the service still succeeds: the rows stay pending, and
`dispatch_pending()` hands them to the broker again later (every minute from beat, when a worker starts,
and by `manage.py dispatch_pending`). Each app registers how to find its pending rows with `register`. The
tasks claim their rows (a conditional UPDATE, or SELECT ... FOR UPDATE SKIP LOCKED), so work handed over
twice is still done once.
"""

import datetime
import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# After the broker refused a message, publishing is not tried again for this long (per process): a dead
# Redis costs one request a second or so, not every request; the dispatch hands the work over later.
BROKER_RETRY_SECONDS = 30.0

_dispatchers: dict[str, Callable[[datetime.datetime], int]] = {}
_broker_down_until = 0.0
_lock = threading.Lock()


def register(name: str, dispatcher: Callable[[datetime.datetime], int]) -> None:
    """`dispatcher(created_before)` hands the app's pending work created before then to the broker again
    (with `enqueue`) and returns how many tasks it queued. Called from the app's AppConfig.ready()."""
    _dispatchers[name] = dispatcher


def enqueue(task, *args) -> bool:
    """Give the task to the broker now; False (logged) when the broker cannot take it: the work stays pending."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        # No retries here: the outbox is the retry. (Tasks run in-process when no broker is configured.)
        task.apply_async(args, retry=False)
    except OperationalError as error:
        with _lock:
            _broker_down_until = time.monotonic() + BROKER_RETRY_SECONDS
        logger.warning("Broker unreachable (%s): %s%s stays pending in the database", error, task.name, args)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """Once the current transaction commits, `enqueue` the task (a rollback forgets it, as it does the rows)."""
    transaction.on_commit(partial(enqueue, task, *args))


def broker_retry_now() -> None:
    """Forget that the broker failed: the next `enqueue` tries it again (the dispatch does this)."""
    global _broker_down_until
    _broker_down_until = 0.0


def broker_failed_recently() -> bool:
    """Whether an `enqueue` of this process found the broker down within BROKER_RETRY_SECONDS."""
    return time.monotonic() < _broker_down_until


def broker_backlog() -> int:
    """Messages waiting in the broker's default queue (0 when tasks run in-process)."""
    from .celery import app

    if app.conf.task_always_eager:
        return 0
    with app.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
        except connection.channel_errors:  # no such queue: Redis drops an empty list
            return 0
        return declared.message_count


def dispatch_pending(*, older_than: datetime.timedelta | None = None) -> dict[str, int]:
    """Hand every app's pending work created more than `older_than` ago (OUTBOX_GRACE_SECONDS by default)
    to the broker again. Returns the tasks queued per kind of work."""
    if older_than is None:
        older_than = datetime.timedelta(seconds=settings.OUTBOX_GRACE_SECONDS)
    created_before = timezone.now() - older_than
    broker_retry_now()
    return {name: dispatcher(created_before) for name, dispatcher in sorted(_dispatchers.items())}
