"""Core pages: the home page, the inbox and the health check."""

from celery import current_app
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import home as home_panels
from . import services
from .models import Notification

INBOX_PAGE_SIZE = 50


@login_required
def home(request):
    """What the user must act on (issue 15 point 5): the panels their roles fill (core.home)."""
    return render(request, "core/home.html", {"panels": home_panels.panels_for(request.user)})


@login_required
def landing(request):
    """Where a login lands (LOGIN_REDIRECT_URL): the one page a role's work is
    (core.home.landing_for: the committee's dashboard), else the home."""
    return redirect(home_panels.landing_for(request.user) or "home")


@login_required
@require_GET
def inbox(request):
    """The user's own notifications, newest first; `?unread=true` shows only unread ones."""
    unread_only = request.GET.get("unread") == "true"
    notifications = Notification.objects.for_user(request.user)
    if unread_only:
        notifications = notifications.unread()
    page = Paginator(notifications, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def inbox_read(request, pk):
    """Mark one notification read (someone else's: 404), then back to the inbox."""
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    services.mark_read(notification, acting_user=request.user)
    return redirect("inbox")


@login_required
@require_POST
def inbox_read_all(request):
    services.mark_all_read(request.user)
    return redirect("inbox")


@never_cache
@require_GET
def healthz(request):
    """`GET /healthz` → {"database": "ok", "broker": "ok" | "eager"}; 503 when a part is down."""
    body = {"database": _database_state(), "broker": _broker_state()}
    healthy = body["database"] == "ok" and body["broker"] in ("ok", "eager")
    return JsonResponse(body, status=200 if healthy else 503)


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unavailable"
    return "ok"


def _broker_state():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # kombu raises transport-specific errors; any of them means "down"
        return "unavailable"
    return "ok"
