"""The weekly KPI digest: to each manager, the KPIs that moved most last week and those off target, with links.

Reads snapshots and targets through the selectors, like the pages; the numbers are the refresh's.
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from kpis import presentation as show
from kpis.definitions.base import Kpi, registry
from kpis.models import KpiDigestDelivery
from kpis.periods import Period, local_today, period_containing
from kpis.selectors import kpi_board, kpi_targets

MOVERS = 5
MANAGER_ROLE = "manager"


@dataclass
class DigestLine:
    kpi: Kpi
    period: Period
    value: str
    change: show.Change | None
    target: show.TargetStatus | None
    url: str
    movement: Decimal = Decimal(0)


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _detail_url(kpi: Kpi, period: Period) -> str:
    query = urlencode({"granularity": period.granularity, "period": "chosen", "on": period.start.isoformat()})
    return _absolute(f"{reverse('kpis:detail', args=[kpi.key])}?{query}")


def _movement(current, previous) -> Decimal:
    """How far a KPI moved, relative to where it was (an absolute move from zero counts as 100 %)."""
    if current is None or previous is None:
        return Decimal(0)
    current, previous = Decimal(current), Decimal(previous)
    if previous == 0:
        return Decimal(100) if current else Decimal(0)
    return abs(current - previous) / abs(previous) * 100


def digest_content(today: datetime.date | None = None) -> dict:
    """Last week's movers, and the KPIs off target for last week or for this month so far."""
    today = today or local_today()
    week = period_containing("week", today).previous()
    month = period_containing("month", today)
    board = kpi_board(period=week, count=2)
    week_targets = kpi_targets(granularity="week", starts=[week.start])
    month_board = kpi_board(period=month, count=1)
    month_targets = kpi_targets(granularity="month", starts=[month.start])
    movers, off_target = [], []
    for kpi in registry().values():
        previous, current = board[kpi.key]
        line = DigestLine(
            kpi=kpi,
            period=week,
            value=show.format_value(kpi.unit, current["value"]),
            change=show.change_between(kpi, current["value"], previous["value"], week.previous().label()),
            target=show.target_status(kpi, current["value"], week_targets.get((kpi.key, week.start))),
            url=_detail_url(kpi, week),
            movement=_movement(current["value"], previous["value"]),
        )
        if line.change is not None and line.movement:
            movers.append(line)
        if line.target is not None and line.target.on_target is False:
            off_target.append(line)
        month_row = month_board[kpi.key][-1]
        month_target = show.target_status(
            kpi, month_row["value"], month_targets.get((kpi.key, month.start)), under_way=month.under_way(today)
        )
        if month_target is not None and month_target.on_target is False:
            off_target.append(
                DigestLine(
                    kpi=kpi,
                    period=month,
                    value=show.format_value(kpi.unit, month_row["value"]),
                    change=None,
                    target=month_target,
                    url=_detail_url(kpi, month),
                )
            )
    movers.sort(key=lambda line: line.movement, reverse=True)
    return {
        "week": week,
        "month": month,
        "movers": movers[:MOVERS],
        "off_target": off_target,
        "overview_url": _absolute(f"{reverse('kpis:overview')}?{urlencode({'granularity': 'week', 'period': 'last'})}"),
        "targets_url": _absolute(reverse("kpis:targets")),
    }


def schedule_text() -> str:
    """When beat sends the digest, from `CELERY_BEAT_SCHEDULE["send-kpi-digest"]` (a crontab)."""
    entry = settings.CELERY_BEAT_SCHEDULE.get("send-kpi-digest")
    if entry is None:
        return "never (it is not in the schedule)"
    schedule = entry["schedule"]
    days = [calendar.day_name[(day - 1) % 7] for day in sorted(schedule.day_of_week)]  # crontab: 0 is Sunday
    times = [f"{hour:02d}:{minute:02d}" for hour in sorted(schedule.hour) for minute in sorted(schedule.minute)]
    return f"every {' and '.join(days)} at {', '.join(times)} ({settings.CELERY_TIMEZONE})"


def last_sent() -> KpiDigestDelivery | None:
    return KpiDigestDelivery.objects.select_related("recipient").order_by("-sent_at", "-pk").first()


def digest_recipients():
    """Active managers with an e-mail address who may read the KPIs (through their groups, their own permission
    or as superusers, as Django's ModelBackend decides), in one query."""
    codename = {"codename": "view_kpisnapshot", "content_type__app_label": "kpis"}
    may_read = (
        Q(is_superuser=True)
        | Q(**{f"groups__permissions__{key}": value for key, value in codename.items()})
        | Q(**{f"user_permissions__{key}": value for key, value in codename.items()})
    )
    managers = get_user_model().objects.filter(is_active=True, groups__name=MANAGER_ROLE).exclude(email="")
    return list(managers.filter(may_read).distinct().order_by("pk"))


def kpis_digest_send(*, today: datetime.date | None = None) -> int:
    """E-mail the weekly digest to every manager who has not had this week's; returns how many were sent.

    Each e-mail goes out in the transaction that records it (KpiDigestDelivery, unique per week and manager):
    a second run, at once or later, sends nobody a second digest; a failed send records nothing."""
    recipients = digest_recipients()
    if not recipients:
        return 0
    content = digest_content(today)
    week_start = content["week"].start
    subject = f"KPIs of week {content['week'].label()}"
    sent = 0
    for user in recipients:
        context = {**content, "user": user}
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("kpis/email/digest.txt", context),
            to=[user.email],
        )
        message.attach_alternative(render_to_string("kpis/email/digest.html", context), "text/html")
        try:
            with transaction.atomic():
                # Claims the e-mail: a concurrent run waits on this row, then finds it taken.
                KpiDigestDelivery.objects.create(week_start=week_start, recipient=user)
                sent += message.send()
        except IntegrityError:
            continue  # this manager has this week's digest already
    return sent
