from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from contacts import selectors as contact_selectors

from .celery import app as celery_app


def not_found(request, exception):
    """404: JSON for the API (a malformed id does not match its routes), the HTML page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def dashboard(request):
    """The start page: what the user can reach, and the latest activity they may see."""
    context = {}
    if request.user.has_perm("contacts.view_interaction"):
        context["recent_interactions"] = contact_selectors.interaction_list().order_by("-occurred_at")[:10]
    return render(request, "dashboard.html", context)


def search(request):
    query = request.GET.get("q", "")
    groups = contact_selectors.global_search(query=query, user=request.user)
    template = "search.html#results" if request.htmx else "search.html"
    return render(request, template, {"query": query, "groups": groups})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    cache.set("health:probe", "ok", 10)
    return "ok" if cache.get("health:probe") == "ok" else "error"


def _check_broker() -> str:
    if celery_app.conf.task_always_eager:
        return "eager"  # no broker configured: tasks run in-process
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@login_not_required
@never_cache
@require_GET
def health(request):
    """Liveness and dependencies: 200 while the database answers, 503 when it does not."""
    checks = {}
    for name, check in (
        ("database", _check_database),
        ("cache", _check_cache),
        ("broker", _check_broker),
    ):
        try:
            checks[name] = check()
        except Exception:  # a health page reports failures, it never raises them
            checks[name] = "error"
    healthy = checks["database"] == "ok"
    body = {"status": "ok" if healthy and "error" not in checks.values() else ("degraded" if healthy else "error")}
    body.update(checks)
    return JsonResponse(body, status=200 if healthy else 503)
