"""Computed KPI values (the system of record for KPI pages and API) and the refresh bookkeeping."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from kpis.periods import GRANULARITIES

GRANULARITY_CHOICES = [(granularity, granularity.title()) for granularity in GRANULARITIES]


def amount_field(**kwargs):
    return models.DecimalField(max_digits=28, decimal_places=8, null=True, blank=True, **kwargs)


class KpiSnapshot(models.Model):
    """One value of one KPI, for one period and one segment (`all` is the whole business)."""

    kpi = models.CharField(max_length=50)
    granularity = models.CharField(max_length=10, choices=GRANULARITY_CHOICES)
    period_start = models.DateField()
    period_end = models.DateField()
    dimension = models.CharField(max_length=20, default="all")
    segment = models.CharField(max_length=200, default="all")
    value = amount_field()
    numerator = amount_field()
    denominator = amount_field()
    sample_size = models.PositiveIntegerField(default=0)
    ci_low = amount_field()
    ci_high = amount_field()
    details = models.JSONField(default=dict, blank=True)
    definition_version = models.PositiveSmallIntegerField(default=1)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kpi", "granularity", "dimension", "period_start", "segment"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "granularity", "dimension", "period_start", "segment"], name="kpisnapshot_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="kpisnapshot_period"
            ),
        ]
        indexes = [
            # The overview reads every KPI's periods of one segment (the unique index leads with the KPI).
            models.Index(fields=["granularity", "dimension", "segment", "period_start"], name="kpisnapshot_board"),
        ]

    def __str__(self):
        return f"{self.kpi} {self.granularity} {self.period_start} {self.dimension}={self.segment}: {self.value}"


class KpiStaleMark(models.Model):
    """Records changed from this instant on: the next periodic refresh recomputes those periods, of the KPIs that
    read `table` (every KPI when it is empty)."""

    since = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=100, blank=True)
    table = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["since"]

    def __str__(self):
        return f"stale since {self.since:%Y-%m-%d %H:%M} ({self.reason})"


class KpiDailyPart(models.Model):
    """The per-day rows of one additive part of the KPIs (revenue and orders per local day and segment ...) as
    a refresh computed them, for the days [first_day, end_day), kept so that the next refresh reads the days
    no record changed since instead of the records (`kpis.rollups`).

    `days` maps each day (ISO text) that has rows to them, as the part's SQL gives them without the day.
    `as_of` is an instant before the refresh that kept them read any record: a refresh that read the records
    earlier does not overwrite them."""

    part = models.CharField(max_length=64, unique=True)  # sha256 of the part's SQL, its range of days left out
    first_day = models.DateField()
    end_day = models.DateField()
    days = models.JSONField(default=dict)
    as_of = models.DateTimeField()
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(end_day__gt=models.F("first_day")), name="kpidailypart_range")
        ]

    def __str__(self):
        return f"{self.part[:12]} [{self.first_day}, {self.end_day})"


class KpiRefresh(models.Model):
    """One refresh run: what it covered, how it went, how long it took."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    scope = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    first_period = models.DateField(null=True, blank=True)
    kpis = models.PositiveIntegerField(default=0)
    periods = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    queries = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"{self.scope} {self.status} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class KpiTarget(models.Model):
    """A manager's target for one KPI (whole business): for one period, or standing for every period of a
    granularity (period_start empty). A period's own target wins over the standing one."""

    kpi = models.CharField(max_length=50)
    granularity = models.CharField(max_length=10, choices=GRANULARITY_CHOICES, default="month")
    period_start = models.DateField(null=True, blank=True)
    value = models.DecimalField(max_digits=20, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kpi", "granularity", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "granularity", "period_start"], name="kpitarget_unique_period"),
            models.UniqueConstraint(
                fields=["kpi", "granularity"],
                condition=models.Q(period_start__isnull=True),
                name="kpitarget_unique_standing",
            ),
        ]

    def __str__(self):
        when = self.period_start.isoformat() if self.period_start else f"every {self.granularity}"
        return f"{self.kpi} target {self.value} ({when})"


class KpiCohortCell(models.Model):
    """Cohort retention (KPIS.md): of the customers whose customer_since falls in `cohort` (a month), how many
    were still customers at the end of month `offset` after it (0 = the cohort's own month)."""

    dimension = models.CharField(max_length=20, default="all")
    segment = models.CharField(max_length=200, default="all")
    cohort = models.DateField()
    offset = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField()
    retained = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["dimension", "segment", "cohort", "offset"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "segment", "cohort", "offset"], name="kpicohortcell_unique"),
            models.CheckConstraint(condition=models.Q(retained__lte=models.F("size")), name="kpicohortcell_retained"),
        ]

    def __str__(self):
        return f"cohort {self.cohort:%Y-%m} +{self.offset} {self.dimension}={self.segment}: {self.retained}/{self.size}"


class KpiDigestDelivery(models.Model):
    """The weekly digest of one week as sent to one manager. The row is written in the transaction that sends
    the e-mail, and is unique: two schedulers, or a task run again, send each manager one digest a week."""

    week_start = models.DateField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["week_start", "recipient"], name="kpidigestdelivery_once_a_week"),
        ]

    def __str__(self):
        return f"digest of the week of {self.week_start} to {self.recipient}"
