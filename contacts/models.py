from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from crm_project.validators import plausible_date


def normalize_email(value: str) -> str:
    """E-mails are stored trimmed and lower-cased: matching and uniqueness ignore case."""
    return (value or "").strip().lower()


DUPLICATE_EMAIL_MESSAGE = "A contact with this e-mail already exists."


class Channel(models.Model):
    """A lead source / acquisition channel: organic search, paid ads, referral, events ..."""

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="channel_name_ci_unique",
                violation_error_message="A channel with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name


class Company(models.Model):
    class SizeBand(models.TextChoices):
        MICRO = "1-10", "1-10 employees"
        SMALL = "11-50", "11-50 employees"
        MEDIUM = "51-200", "51-200 employees"
        LARGE = "201-1000", "201-1,000 employees"
        ENTERPRISE = "1000+", "More than 1,000 employees"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Web domain, e.g. example.com")
    industry = models.CharField(max_length=100, blank=True)
    size_band = models.CharField(max_length=10, choices=SizeBand.choices, blank=True)
    region = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_companies",
    )
    external_id = models.CharField(max_length=100, blank=True, help_text="Id in the system it was imported from.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        indexes = [models.Index(Lower("name"), name="company_name_lower_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="company_external_id_unique",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.domain = (self.domain or "").strip().lower()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("contacts:company_detail", args=[self.pk])


class ContactQuerySet(models.QuerySet):
    def with_email(self, email: str) -> "ContactQuerySet":
        """Contacts whose e-mail is `email`, ignoring case, found through the unique index on lower(email) (its
        condition, a non-empty e-mail, is repeated so that PostgreSQL can use it; `email__iexact` compares
        UPPER() and reads every row)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=Lower(Value(email))).exclude(email="")


class Contact(models.Model):
    """A person. A customer from `customer_since` until `churned_at`."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    job_title = models.CharField(max_length=150, blank=True)
    region = models.CharField(max_length=100, blank=True)
    industry = models.CharField(max_length=100, blank=True, help_text="Leave empty to use the company's.")
    # No index of their own: the list indexes below start with them, and serve the same lookups.
    channel = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        db_index=False,
    )
    customer_since = models.DateTimeField(null=True, blank=True, validators=[plausible_date])
    churned_at = models.DateTimeField(null=True, blank=True, validators=[plausible_date])
    email_opt_out = models.BooleanField("opted out of e-mail", default=False)
    external_id = models.CharField(max_length=100, blank=True, help_text="Id in the system it was imported from.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        # Lookups by e-mail use the unique index below (`with_email`); every index costs each write (an import
        # of 100,000 contacts updates each once per row), so there is none that no query reads.
        indexes = [
            # Keyset pages of the default ordering (by name), alone and with the common filters.
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(fields=["owner", "last_name", "first_name", "id"], name="contact_owner_name_idx"),
            models.Index(fields=["channel", "last_name", "first_name", "id"], name="contact_channel_name_idx"),
            # Most contacts never became customers: their empty dates are left out (a range or order by these
            # dates never reads an empty one from an index).
            models.Index(
                fields=["customer_since"], condition=Q(customer_since__isnull=False), name="contact_customer_since_idx"
            ),
            models.Index(fields=["churned_at"], condition=Q(churned_at__isnull=False), name="contact_churned_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="contact_email_ci_unique",
                violation_error_message=DUPLICATE_EMAIL_MESSAGE,
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(churned_at__isnull=True)
                | (Q(customer_since__isnull=False) & Q(churned_at__gte=models.F("customer_since"))),
                name="contact_churn_after_customer_since",
                violation_error_message="A contact can only churn after becoming a customer.",
            ),
            models.CheckConstraint(
                condition=~Q(first_name="", last_name="", email=""),
                name="contact_has_name_or_email",
                violation_error_message="Give the contact a name or an e-mail address.",
            ),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("contacts:contact_detail", args=[self.pk])

    def clean_fields(self, exclude=None):
        # Validate the e-mail as it will be stored: " Ada@Example.com " is a valid address.
        self.email = normalize_email(self.email)
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        # The constraint is on Lower("email"), which Django reports without a field; say it on the e-mail.
        # (full_clean then skips the constraint for the field, so the message is not shown twice.)
        if self.email and Contact.objects.with_email(self.email).exclude(pk=self.pk).exists():
            raise ValidationError({"email": ValidationError(DUPLICATE_EMAIL_MESSAGE, code="unique")})

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.email

    @property
    def effective_industry(self) -> str:
        if self.industry:
            return self.industry
        return self.company.industry if self.company_id else ""

    def is_customer_at(self, instant) -> bool:
        """KPIS.md: a customer at t when customer_since <= t and (no churn or churned_at > t)."""
        return (
            self.customer_since is not None
            and self.customer_since <= instant
            and (self.churned_at is None or self.churned_at > instant)
        )

    @property
    def is_customer(self) -> bool:
        return self.is_customer_at(timezone.now())

    @property
    def churn_is_scheduled(self) -> bool:
        """A churn dated later than now: a cancelled subscription still runs until then."""
        return self.churned_at is not None and self.churned_at > timezone.now()

    @property
    def customer_status(self) -> str:
        """ "customer", "churned" (was one) or "prospect" (never yet)."""
        now = timezone.now()
        if self.is_customer_at(now):
            return "customer"
        if self.churned_at is not None and self.churned_at <= now:
            return "churned"
        return "prospect"


class Interaction(models.Model):
    """A logged touch with a contact."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"
        WEB_VISIT = "web_visit", "Web visit"
        APP_SESSION = "app_session", "App session"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        help_text="The staff member who made or took it.",
    )
    summary = models.TextField(blank=True, max_length=10000)
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["contact", "-occurred_at"], name="interaction_contact_time_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="interaction_external_id_unique",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} with {self.contact} on {self.occurred_at:%Y-%m-%d}"


class ImportJob(models.Model):
    """A CSV file uploaded on the import page: checked first (a dry run), then imported by a Celery task.

    The file itself is kept here, in the database, so that whichever worker runs the task can read it.
    """

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked, waiting for confirmation"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Nothing imported"

    kind = models.CharField(max_length=50)
    file_name = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    skip_bad_rows = models.BooleanField(default=False, help_text="Import the good rows, list the bad ones.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    rows_total = models.PositiveIntegerField(default=0, help_text="Data rows of the file (estimated until checked).")
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    bad_rows = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    unreadable = models.BooleanField(default=False, help_text="The file could not be read through (header, encoding).")
    problems = models.JSONField(default=list, blank=True, help_text="The first problems: line, column, reason.")
    notes = models.JSONField(default=list, blank=True, help_text="Channels, pipelines ... created by the import.")
    preview = models.JSONField(default=dict, blank=True, help_text="The header and the first rows of the file.")
    summary = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.file_name}"

    def get_absolute_url(self):
        return reverse("contacts:import_detail", args=[self.pk])

    def get_kind_display(self) -> str:
        return self.kind.replace("_", " ")

    @property
    def is_working(self) -> bool:
        return self.status in {self.Status.CHECKING, self.Status.QUEUED, self.Status.RUNNING}

    @property
    def can_import(self) -> bool:
        """Checked, with something that would go in (every row, or the good ones when skipping bad rows)."""
        checked = self.status == self.Status.CHECKED
        return checked and self.good_rows > 0 and (self.problem_count == 0 or self.skip_bad_rows)

    @property
    def good_rows(self) -> int:
        return 0 if self.unreadable else self.created_count + self.updated_count + self.unchanged_count
