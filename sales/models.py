from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from contacts.models import Channel, Company, Contact
from crm_project.validators import plausible_date

ZERO = Decimal("0.00")


def money_field(**kwargs) -> models.DecimalField:
    """Money in the base currency (settings.CRM_CURRENCY), two decimals, never negative."""
    return models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(ZERO)], **kwargs)


def external_id_field() -> models.CharField:
    return models.CharField(max_length=100, blank=True, help_text="Id in the system it was imported from.")


def external_id_unique(model_name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["external_id"], condition=~Q(external_id=""), name=f"{model_name}_external_id_unique"
    )


def non_negative(field: str, model_name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}),
        name=f"{model_name}_{field}_not_negative",
        violation_error_message=f"The {field.replace('_', ' ')} cannot be negative.",
    )


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    starts_on = models.DateField(null=True, blank=True, validators=[plausible_date])
    ends_on = models.DateField(null=True, blank=True, validators=[plausible_date])
    budget = money_field(null=True, blank=True)
    external_id = external_id_field()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="campaign_name_ci_unique",
                violation_error_message="A campaign with this name exists.",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="campaign_ends_after_start",
                violation_error_message="A campaign cannot end before it starts.",
            ),
            non_negative("budget", "campaign"),
            external_id_unique("campaign"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:campaign_detail", args=[self.pk])


class Spend(models.Model):
    """Money spent on marketing and sales: acquisition spend feeds CAC, retention spend CRC."""

    class Category(models.TextChoices):
        ACQUISITION = "acquisition", "Acquisition"
        RETENTION = "retention", "Retention"

    spent_on = models.DateField(db_index=True, validators=[plausible_date])
    amount = money_field()
    category = models.CharField(max_length=20, choices=Category.choices)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="spend")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="spend")
    description = models.CharField(max_length=300, blank=True)
    external_id = external_id_field()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-spent_on", "-id"]
        verbose_name_plural = "spend"
        constraints = [
            non_negative("amount", "spend"),
            models.CheckConstraint(condition=Q(category__in=["acquisition", "retention"]), name="spend_category_valid"),
            external_id_unique("spend"),
        ]

    def __str__(self):
        return f"{self.amount} {self.get_category_display().lower()} on {self.spent_on}"


class Pipeline(models.Model):
    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="pipeline_name_ci_unique"),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_pipeline"),
        ]

    def __str__(self):
        return self.name


class Stage(models.Model):
    """A column of a pipeline. Exactly one won and one lost stage per pipeline."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(
        help_text="Chance of winning a deal in this stage, in percent.",
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OPEN)

    class Meta:
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique_in_pipeline"),
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_position_unique_in_pipeline"),
            models.UniqueConstraint(fields=["pipeline"], condition=Q(kind="won"), name="one_won_stage_per_pipeline"),
            models.UniqueConstraint(fields=["pipeline"], condition=Q(kind="lost"), name="one_lost_stage_per_pipeline"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_at_most_100"),
        ]

    def __str__(self):
        return f"{self.pipeline}: {self.name}"


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        WORKING = "working", "Working"
        QUALIFIED = "qualified", "Qualified"
        CONVERTED = "converted", "Converted"
        DISQUALIFIED = "disqualified", "Disqualified"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True, max_length=5000)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_leads"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    disqualified_reason = models.CharField(max_length=300, blank=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    converted_at = models.DateTimeField(null=True, blank=True, validators=[plausible_date])
    external_id = external_id_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(Lower("email"), name="lead_email_lower_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="converted") & Q(converted_at__isnull=False))
                | (~Q(status="converted") & Q(converted_at__isnull=True)),
                name="lead_converted_has_time",
                violation_error_message="A converted lead has a conversion time, and only a converted one.",
            ),
            models.CheckConstraint(
                condition=Q(converted_at__isnull=True) | Q(converted_at__gte=F("created_at")),
                name="lead_converted_after_created",
                violation_error_message="A lead cannot be converted before it was created.",
            ),
            models.CheckConstraint(
                condition=~Q(first_name="", last_name="", email="", company_name=""),
                name="lead_has_someone",
                violation_error_message="Give the lead a name, an e-mail address or a company.",
            ),
            external_id_unique("lead"),
        ]

    def __str__(self):
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email or self.company_name

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("sales:lead_detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status in {self.Status.CONVERTED, self.Status.DISQUALIFIED}


class Deal(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", "New business"
        UPSELL = "upsell", "Upsell"
        CROSS_SELL = "cross_sell", "Cross-sell"
        RENEWAL = "renewal", "Renewal"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    title = models.CharField(max_length=200)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="deals")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_deals"
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="deals")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NEW)
    amount = money_field(default=ZERO)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    # Mirrors the stage's kind; kept on the deal so that KPIs filter without a join.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    expected_close_date = models.DateField(null=True, blank=True, validators=[plausible_date])
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True, validators=[plausible_date])
    lost_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    stage_changed_at = models.DateTimeField(default=timezone.now)
    external_id = external_id_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            non_negative("amount", "deal"),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True))
                | (Q(status__in=["won", "lost"]) & Q(closed_at__isnull=False)),
                name="deal_closed_has_time",
                violation_error_message="A won or lost deal has a close time; an open one has none.",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("created_at")),
                name="deal_closed_after_created",
                violation_error_message="A deal cannot close before it was created.",
            ),
            external_id_unique("deal"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("sales:deal_detail", args=[self.pk])

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))


class DealStageChange(models.Model):
    """Every move of a deal between stages, with who and when (stage history)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now, validators=[plausible_date])
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["deal", "changed_at"], name="stagechange_deal_time_idx")]

    def __str__(self):
        return f"{self.deal}: {self.from_stage} -> {self.to_stage}"


class Order(models.Model):
    """A purchase. Orders are revenue."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="orders")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    ordered_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    amount = money_field()
    description = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    external_id = external_id_field()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "ordered_at"], name="order_contact_time_idx"),
            models.Index(fields=["ordered_at", "id"], name="order_time_idx"),  # keyset pages, newest first
        ]
        constraints = [non_negative("amount", "order"), external_id_unique("order")]

    def __str__(self):
        return f"Order {self.pk} of {self.contact}"

    def get_absolute_url(self):
        return reverse("sales:order_detail", args=[self.pk])


class Subscription(models.Model):
    class Outcome(models.TextChoices):
        ACTIVE = "active", "Active"
        RENEWED = "renewed", "Renewed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.CharField(max_length=100)
    amount = money_field()
    starts_on = models.DateField(validators=[plausible_date])
    ends_on = models.DateField(db_index=True, validators=[plausible_date])
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ACTIVE, db_index=True)
    renews = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewed_by",
        help_text="The one it renews.",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, validators=[plausible_date])
    created_at = models.DateTimeField(default=timezone.now)
    external_id = external_id_field()

    class Meta:
        ordering = ["-ends_on", "-id"]
        constraints = [
            non_negative("amount", "subscription"),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")),
                name="subscription_ends_after_start",
                violation_error_message="A subscription must end after it starts.",
            ),
            external_id_unique("subscription"),
        ]

    def __str__(self):
        return f"{self.plan} for {self.contact} ({self.starts_on} to {self.ends_on})"

    def get_absolute_url(self):
        return reverse("sales:subscription_detail", args=[self.pk])


class SalesEvent(models.Model):
    """Audit trail of the sales workflows (who did what, when), for history pages and timelines."""

    class Verb(models.TextChoices):
        LEAD_CREATED = "lead_created", "Lead created"
        LEAD_STATUS = "lead_status", "Lead status changed"
        LEAD_ASSIGNED = "lead_assigned", "Lead assigned"
        LEAD_CONVERTED = "lead_converted", "Lead converted"
        LEAD_DISQUALIFIED = "lead_disqualified", "Lead disqualified"
        DEAL_CREATED = "deal_created", "Deal opened"
        DEAL_WON = "deal_won", "Deal won"
        DEAL_LOST = "deal_lost", "Deal lost"
        DEAL_REOPENED = "deal_reopened", "Deal reopened"
        SUBSCRIPTION_RENEWED = "subscription_renewed", "Subscription renewed"
        SUBSCRIPTION_CANCELLED = "subscription_cancelled", "Subscription cancelled"
        SUBSCRIPTION_EXPIRED = "subscription_expired", "Subscription expired"
        CUSTOMER_STARTED = "customer_started", "Became a customer"
        CUSTOMER_CHURNED = "customer_churned", "Customer churned"
        CUSTOMER_REACTIVATED = "customer_reactivated", "Customer reactivated"

    verb = models.CharField(max_length=30, choices=Verb.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="sales_events")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_verb_display()} at {self.at:%Y-%m-%d %H:%M}"
