"""Who is changing records right now, for the audit trail.

A request names its user (`AuditMiddleware` keeps the request here; the user is read when a change is
recorded, so the API's token authentication, which happens in the view, is seen too). Code that changes
records on someone's behalf outside a request says so with `acting(...)`: the import job for its user,
Celery tasks for "system". With neither, changes are the system's.
"""

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass

from .models import AuditEntry

SYSTEM_LABEL = "system"
VISITOR_LABEL = "anonymous visitor"

Source = AuditEntry.Source


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    source: str
    note: str = ""


_request: ContextVar = ContextVar("audit_request", default=None)
_acting: ContextVar = ContextVar("audit_acting", default=None)


def user_label(user) -> str:
    from crm_project.templatetags.crm import display_name

    return display_name(user)[:200] if user is not None else SYSTEM_LABEL


def source_of(path: str) -> str:
    if path.startswith("/api/"):
        return Source.API
    if path.startswith("/admin/"):
        return Source.ADMIN
    return Source.PAGE


@contextlib.contextmanager
def request_scope(request):
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


@contextlib.contextmanager
def acting(*, user=None, source: str = Source.SYSTEM, note: str = ""):
    """Changes made inside are recorded as `user`'s (None: the system's), from `source`, with `note`."""
    token = _acting.set(Actor(user.pk if user is not None else None, user_label(user), source, note[:500]))
    try:
        yield
    finally:
        _acting.reset(token)


def current() -> Actor:
    acting_now = _acting.get()
    if acting_now is not None:
        return acting_now
    request = _request.get()
    if request is None:
        return Actor(None, SYSTEM_LABEL, Source.SYSTEM)
    source = source_of(request.path_info)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(user.pk, user_label(user), source)
    return Actor(None, VISITOR_LABEL, source)


def enter_system_task() -> object:
    """For Celery's task_prerun: what a task changes is the system's, even when it runs eagerly in a request."""
    return _acting.set(Actor(None, SYSTEM_LABEL, Source.SYSTEM))


def leave_system_task(token) -> None:
    # Set in another context (a worker that ran the hooks apart): nothing of ours to undo.
    with contextlib.suppress(ValueError):
        _acting.reset(token)
