import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from crm_project.validators import plausible_date
from support.models import Ticket


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS (0-10)"
    CSAT = "csat", "CSAT (1-5)"


SCALES = {SurveyKind.NPS: range(11), SurveyKind.CSAT: range(1, 6)}
DEFAULT_LABELS = {
    SurveyKind.NPS: ("Not at all likely", "Extremely likely"),
    SurveyKind.CSAT: ("Very unsatisfied", "Very satisfied"),
}
# The question a survey asks unless told otherwise (the demo's surveys, surveys created by an import).
DEFAULT_QUESTIONS = {
    SurveyKind.NPS: "How likely are you to recommend us to a friend or colleague?",
    SurveyKind.CSAT: "How satisfied are you with the help you received?",
}
MAX_COMMENT = 2000


def hash_token(token: str) -> str:
    """Links carry the token; the database keeps only its SHA-256 (a leaked table opens no survey)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Survey(models.Model):
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    question = models.CharField(max_length=300)
    low_label = models.CharField(max_length=60, blank=True, help_text="Label under the lowest score.")
    high_label = models.CharField(max_length=60, blank=True, help_text="Label under the highest score.")
    is_active = models.BooleanField(default=True)
    send_on_ticket_resolved = models.BooleanField(
        default=False, help_text="Send automatically to the customer when a ticket is resolved (CSAT)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["nps", "csat"]), name="survey_kind_valid"),
            # Unique whatever the case: the import finds a survey by its name in any case.
            models.UniqueConstraint(
                Lower("name"), name="survey_name_ci_unique", violation_error_message="A survey with this name exists."
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        low, high = DEFAULT_LABELS.get(self.kind, ("", ""))
        self.low_label = self.low_label or low
        self.high_label = self.high_label or high
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("surveys:survey_detail", args=[self.pk])

    def clean(self):
        errors = {}
        # invite_after_ticket_resolved sends CSAT surveys only: an NPS survey with the flag would never go out.
        if self.send_on_ticket_resolved and self.kind != SurveyKind.CSAT:
            errors["send_on_ticket_resolved"] = "Only a CSAT survey can go out automatically when a ticket is resolved."
        # The constraint's rule, said under the field (an expression's constraint speaks for no field).
        if self.name and Survey.objects.filter(name__iexact=self.name).exclude(pk=self.pk).exists():
            errors["name"] = "A survey with this name exists."
        if errors:
            raise ValidationError(errors)

    @property
    def scale(self) -> range:
        return SCALES[self.kind]


class Invitation(models.Model):
    """One contact asked to answer one survey, through an unguessable link."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="survey_invitations")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True, validators=[plausible_date])
    expires_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=300, blank=True)
    external_id = models.CharField(max_length=100, blank=True, help_text="Id in the system it was imported from.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "created_at"], name="invitation_contact_time_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="invitation_external_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(sent_at__isnull=True) | Q(expires_at__gt=F("sent_at")),
                name="invitation_expires_after_sent",
            ),
        ]

    def __str__(self):
        return f"{self.survey} for {self.contact}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and timezone.now() >= self.expires_at


class Response(models.Model):
    """The answer to an invitation: at most one (database constraint), score on the survey's scale."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    # The survey's kind, kept here so that the database can check the score's scale.
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(blank=True, max_length=MAX_COMMENT)
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="nps") & Q(score__gte=0) & Q(score__lte=10))
                | (Q(kind="csat") & Q(score__gte=1) & Q(score__lte=5)),
                name="response_score_on_scale",
                violation_error_message="The score is outside the survey's scale.",
            ),
        ]

    def __str__(self):
        return f"{self.score} to {self.invitation.survey}"

    @property
    def band(self) -> str:
        """promoter / passive / detractor (NPS) or satisfied / unsatisfied (CSAT)."""
        if self.kind == SurveyKind.NPS:
            return "promoter" if self.score >= 9 else "passive" if self.score >= 7 else "detractor"
        return "satisfied" if self.score >= 4 else "unsatisfied"
