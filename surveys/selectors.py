"""Reads shared by the survey pages and the API: scores and rates as SQL aggregates, never a loop over rows."""

import datetime
import math

from django.conf import settings
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from contacts.models import Contact

from . import services
from .models import Invitation, Response, Survey, SurveyKind

# The "current" score and response rate of a survey are over this many days (KPIS.md: NPS, CSAT, response rate).
SCORE_WINDOW_DAYS = 90
# Below this many answers an NPS is flagged as low confidence (KPIS.md).
LOW_CONFIDENCE_N = 30

# Score bands: (label, condition on a Response).
BANDS = {
    "promoter": ("Promoters (9-10)", Q(kind=SurveyKind.NPS, score__gte=9)),
    "passive": ("Passives (7-8)", Q(kind=SurveyKind.NPS, score__gte=7, score__lte=8)),
    "detractor": ("Detractors (0-6)", Q(kind=SurveyKind.NPS, score__lte=6)),
    "satisfied": ("Satisfied (4-5)", Q(kind=SurveyKind.CSAT, score__gte=4)),
    "unsatisfied": ("Unsatisfied (1-3)", Q(kind=SurveyKind.CSAT, score__lte=3)),
}
BAND_CHOICES = [
    ("NPS", [(key, BANDS[key][0]) for key in ("promoter", "passive", "detractor")]),
    ("CSAT", [(key, BANDS[key][0]) for key in ("satisfied", "unsatisfied")]),
]


def band_condition(band: str, prefix: str = "") -> Q:
    """The band's condition on Response rows, or on rows reached through `prefix` (e.g. "invitations__response__")."""
    condition = BANDS[band][1]
    if not prefix:
        return condition
    return Q(*[(prefix + lookup, value) for lookup, value in condition.children])


def _percent(numerator, denominator):
    """numerator / denominator x 100 in SQL; empty (NULL) when the denominator is 0 (KPIS.md)."""
    return Case(
        When(**{f"{denominator}": 0}, then=Value(None, output_field=FloatField())),
        default=Cast(numerator, FloatField()) * 100.0 / Cast(F(denominator), FloatField()),
        output_field=FloatField(),
    )


def survey_list(*, now: datetime.datetime | None = None) -> QuerySet[Survey]:
    """Surveys with their numbers, one query for any number of surveys.

    - `response_count`: every answer so far; `invitation_count`: every invitation sent so far;
    - over the last SCORE_WINDOW_DAYS: `recent_responses` (the score's n), `promoters`, `passives`,
      `detractors`, `satisfied`; `score` = NPS (% promoters - % detractors) or CSAT (% scoring 4-5);
    - `recent_sent`, `recent_answered`, `response_rate` = invitations sent in the window that have an
      answer / invitations sent in the window x 100.
    Empty (None) where there is nothing to divide by.
    """
    since = (now or timezone.now()) - datetime.timedelta(days=SCORE_WINDOW_DAYS)
    answered = Q(invitations__response__isnull=False)
    recent = answered & Q(invitations__response__submitted_at__gte=since)
    sent_recently = Q(invitations__sent_at__gte=since)

    def recent_in(band):
        return Count("invitations__response", filter=recent & band_condition(band, "invitations__response__"))

    surveys = Survey.objects.annotate(
        response_count=Count("invitations__response"),
        invitation_count=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
        recent_responses=Count("invitations__response", filter=recent),
        promoters=recent_in("promoter"),
        passives=recent_in("passive"),
        detractors=recent_in("detractor"),
        satisfied=recent_in("satisfied"),
        recent_sent=Count("invitations", filter=sent_recently),
        recent_answered=Count("invitations", filter=sent_recently & answered),
    )
    return surveys.annotate(
        score=Case(
            When(kind=SurveyKind.NPS, then=_percent(F("promoters") - F("detractors"), "recent_responses")),
            default=_percent(F("satisfied"), "recent_responses"),
            output_field=FloatField(),
        ),
        response_rate=_percent(F("recent_answered"), "recent_sent"),
    )


def score_distribution(*, survey: Survey, now: datetime.datetime | None = None) -> list[dict]:
    """How many answers each score of the scale got over the score window (zeros included), one query."""
    since = (now or timezone.now()) - datetime.timedelta(days=SCORE_WINDOW_DAYS)
    counts = dict(
        Response.objects.filter(invitation__survey=survey, submitted_at__gte=since)
        .order_by()
        .values_list("score")
        .annotate(n=Count("pk"))
    )
    total = sum(counts.values())
    rows = []
    for score in survey.scale:
        count = counts.get(score, 0)
        band = Response(kind=survey.kind, score=score).band
        rows.append({"score": score, "count": count, "share": 100.0 * count / total if total else None, "band": band})
    return rows


def response_list() -> QuerySet[Response]:
    return Response.objects.select_related(
        "invitation__survey",
        "invitation__contact__company",
        "invitation__contact__channel",
        "invitation__ticket",
    )


def latest_responses(*, survey: Survey, limit: int = 10) -> list[Response]:
    return list(response_list().filter(invitation__survey=survey).order_by("-submitted_at", "-pk")[:limit])


def invitation_list() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("survey", "contact", "response")


def send_preview(*, survey: Survey, contacts: QuerySet[Contact]) -> dict[str, int]:
    """Who of these contacts a send would reach, and why the others are skipped (two queries).

    `will_send` uses the service's own rule (services.eligible_contacts), so the preview and the send agree.
    """
    counts = contacts.order_by().aggregate(
        total=Count("pk"),
        opted_out=Count("pk", filter=Q(email_opt_out=True)),
        no_email=Count("pk", filter=Q(email_opt_out=False, email="")),
    )
    will_send = services.eligible_contacts(survey=survey, contacts=contacts).order_by().count()
    counts["will_send"] = will_send
    counts["recently_asked"] = counts["total"] - counts["opted_out"] - counts["no_email"] - will_send
    counts["skipped"] = counts["total"] - will_send
    return counts


def contact_survey_summary(*, contact: Contact) -> dict:
    """For the contact page's panel: the last invitation (with its answer) and the surveys that can be sent."""
    last = invitation_list().filter(contact=contact).order_by("-created_at", "-pk").first()
    quiet_until = None
    if last is not None:
        quiet_until = last.created_at + datetime.timedelta(days=settings.SURVEY_QUIET_DAYS)
        if quiet_until <= timezone.now():
            quiet_until = None
    return {
        "last_invitation": last,
        "last_response": getattr(last, "response", None) if last else None,
        "quiet_until": quiet_until,
        "active_surveys": list(Survey.objects.filter(is_active=True).order_by("name")),
    }


def score_interval(survey: Survey) -> str:
    """The 95 % uncertainty of an annotated survey's score, in words (KPIS.md); empty without answers.

    NPS: ± 1.96 x 100 x sqrt((p + d - (p - d)^2) / n). CSAT: the Wilson interval of the share satisfied.
    """
    n = survey.recent_responses
    if not n:
        return ""
    if survey.kind == SurveyKind.NPS:
        p, d = survey.promoters / n, survey.detractors / n
        margin = 1.96 * 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
        return f"± {margin:.0f} (95 %)"
    z, share = 1.96, survey.satisfied / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"95 % interval {100 * (centre - half):.1f}–{100 * (centre + half):.1f} %"
