"""seed_demo's surveys: two years of NPS and CSAT answers, realistic, consistent, deterministic, idempotent."""

import random
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from contacts.demo import DemoContext, ensure_demo_users, external_id
from contacts.models import Contact
from support.models import Ticket
from surveys import demo
from surveys.models import Invitation, Response, Survey, SurveyKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_the_surveys_seeder(monkeypatch):
    """These tests seed the surveys on the contacts alone; they make their own resolved tickets."""
    from contacts import registry

    monkeypatch.setattr(
        registry, "_demo_seeders", {name: fn for name, fn in registry._demo_seeders.items() if name == "surveys"}
    )


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", size="small", force=True, stdout=out)
    return out.getvalue()


def context(log=lambda message: None, **kwargs) -> DemoContext:
    return DemoContext(size="small", seed=1, users=ensure_demo_users(), log=log, **kwargs)


def snapshot() -> set[tuple]:
    return set(
        Invitation.objects.values_list(
            "external_id", "contact_id", "ticket_id", "sent_at", "expires_at", "opened_at", "response__score"
        )
    )


def resolved_demo_tickets(count: int) -> list[Ticket]:
    """Resolved tickets as the support seeder leaves them, from the demo's customers."""
    customers = list(Contact.objects.filter(customer_since__isnull=False, email_opt_out=False).order_by("pk"))
    now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(7)
    tickets = []
    for number in range(1, count + 1):
        created = now - timedelta(days=rng.randint(2, 600), hours=rng.randint(0, 23))
        hours = rng.choice((1, 3, 20, 60, 150))
        tickets.append(
            Ticket(
                contact=customers[number % len(customers)],
                subject=f"Question {number}",
                channel=rng.choice(["email", "chat", "phone", "web"]),
                status=Ticket.Status.RESOLVED,
                created_at=created,
                resolved_at=created + timedelta(hours=hours),
                reopened_count=rng.choice((0, 0, 0, 1)),
                external_id=external_id("ticket", number),
            )
        )
    return Ticket.objects.bulk_create(tickets)


@pytest.fixture
def seeded():
    return seed()


# What it makes


def test_makes_an_nps_survey_and_a_csat_survey_sent_after_resolved_tickets(seeded):
    surveys = {survey.name: survey for survey in Survey.objects.all()}

    assert surveys[demo.NPS_SURVEY].kind == SurveyKind.NPS
    assert surveys[demo.CSAT_SURVEY].kind == SurveyKind.CSAT
    assert surveys[demo.CSAT_SURVEY].send_on_ticket_resolved is True


def test_prints_what_it_made(seeded):
    invitations = Invitation.objects.count()

    assert any(line.split()[:3] == ["survey", "invitations", str(invitations)] for line in seeded.splitlines())


def test_nps_goes_to_customers_with_an_email_while_they_are_customers(seeded):
    nps = Invitation.objects.filter(survey__name=demo.NPS_SURVEY).select_related("contact")

    assert nps.count() > 50
    for invitation in nps:
        contact = invitation.contact
        assert contact.email and not contact.email_opt_out
        assert contact.customer_since <= invitation.sent_at
        assert contact.churned_at is None or invitation.sent_at < contact.churned_at


def test_nps_asks_each_customer_a_few_times_a_year(seeded):
    per_contact = Counter(Invitation.objects.filter(survey__name=demo.NPS_SURVEY).values_list("contact", flat=True))

    assert max(per_contact.values()) <= 7  # two years, about three a year
    for contact_id in per_contact:
        sent = sorted(Invitation.objects.filter(contact_id=contact_id).values_list("sent_at", flat=True))
        assert all(later - earlier >= timedelta(days=90) for earlier, later in zip(sent, sent[1:], strict=False))


def test_times_are_consistent_and_never_in_the_future(seeded):
    now = timezone.now()
    invitations = Invitation.objects.all()

    assert not invitations.filter(Q(sent_at__isnull=True) | Q(sent_at__gt=now)).exists()
    assert not invitations.exclude(expires_at=F("sent_at") + timedelta(days=settings.SURVEY_LINK_DAYS)).exists()
    assert not invitations.exclude(created_at=F("sent_at")).exists()
    assert not invitations.filter(opened_at__lt=F("sent_at")).exists()
    assert not invitations.filter(opened_at__gt=now).exists()
    answers = Response.objects.all()
    assert answers.exists()
    assert not answers.filter(submitted_at__lte=F("invitation__sent_at")).exists()
    assert not answers.filter(submitted_at__gte=F("invitation__expires_at")).exists()
    assert not answers.filter(submitted_at__gt=now).exists()
    assert not answers.filter(invitation__opened_at__gt=F("submitted_at")).exists()
    assert not answers.filter(invitation__opened_at__isnull=True).exists()


def test_demo_invitations_have_no_token(seeded):
    assert not Invitation.objects.filter(token_hash__isnull=False).exists()


def test_history_spans_the_two_years(seeded):
    first = Invitation.objects.order_by("sent_at").first().sent_at

    assert first < timezone.now() - timedelta(days=365)


def test_response_rate_is_realistic(seeded):
    rate = Response.objects.count() / Invitation.objects.count()

    assert 0.2 <= rate <= 0.4


def test_answers_are_on_their_surveys_scale_and_some_have_comments(seeded):
    answers = Response.objects.select_related("invitation__survey")

    assert all(answer.kind == answer.invitation.survey.kind for answer in answers)
    assert all(answer.score in answer.invitation.survey.scale for answer in answers)
    assert 0.15 < answers.exclude(comment="").count() / answers.count() < 0.6


# Segments answer differently


def nps_of(bands: list[str]) -> float:
    counts = Counter(bands)
    return 100 * (counts["promoter"] - counts["detractor"]) / len(bands)


def test_referral_customers_promote_more_than_paid_ads_customers():
    rng = random.Random(1)

    referral = nps_of([demo._nps_band(rng, "Referral", "Europe", False) for _ in range(20000)])
    paid_ads = nps_of([demo._nps_band(rng, "Paid ads", "Europe", False) for _ in range(20000)])

    assert referral - paid_ads > 30


def test_customers_about_to_churn_are_more_often_detractors():
    rng = random.Random(1)

    staying = nps_of([demo._nps_band(rng, "Organic search", "Europe", False) for _ in range(20000)])
    leaving = nps_of([demo._nps_band(rng, "Organic search", "Europe", True) for _ in range(20000)])

    assert staying - leaving > 30


def test_response_rates_differ_by_region_within_20_to_40_percent():
    rates = {region: demo._response_rate(region, "Organic search") for region in demo.RESPONSE_RATE_BY_REGION}

    assert rates["North America"] > rates["Asia-Pacific"]
    assert all(0.2 <= rate <= 0.4 for rate in rates.values())


def test_slow_or_reopened_tickets_leave_fewer_customers_satisfied():
    rng = random.Random(1)
    now = timezone.now()

    def satisfied_share(hours, reopened):
        ticket = {
            "created_at": now - timedelta(hours=hours),
            "resolved_at": now,
            "reopened_count": reopened,
            "channel": "email",
            "contact__region": "Europe",
        }
        return sum(demo._csat_band(rng, ticket) == "satisfied" for _ in range(10000)) / 10000

    assert satisfied_share(2, 0) - satisfied_share(150, 0) > 0.2
    assert satisfied_share(2, 0) - satisfied_share(2, 1) > 0.2


# CSAT after resolved tickets


def test_csat_follows_the_resolved_demo_tickets():
    seed()
    tickets = resolved_demo_tickets(300)
    ctx = context()

    demo.seed_surveys(ctx)

    csat = Invitation.objects.filter(survey__name=demo.CSAT_SURVEY).select_related("ticket")
    assert 200 < csat.count() <= 300  # most resolved tickets get the survey
    assert not csat.filter(ticket__isnull=True).exists()
    assert not csat.exclude(contact=F("ticket__contact")).exists()
    assert not csat.filter(sent_at__lt=F("ticket__resolved_at")).exists()
    assert not csat.filter(sent_at__gt=F("ticket__resolved_at") + timedelta(hours=1)).exists()
    assert {invitation.external_id for invitation in csat} <= {
        f"demo-invitation-ticket-{ticket.external_id.removeprefix('demo-ticket-')}" for ticket in tickets
    }
    answers = Response.objects.filter(invitation__survey__name=demo.CSAT_SURVEY)
    assert 0.2 <= answers.count() / csat.count() <= 0.45
    assert set(answers.values_list("score", flat=True)) <= {1, 2, 3, 4, 5}
    assert ctx.created["survey invitations"][0] == csat.count()


def test_without_resolved_tickets_there_is_no_csat_and_it_says_so():
    logged = []
    seed()
    Invitation.objects.all().delete()

    demo.seed_surveys(context(log=logged.append))

    assert not Invitation.objects.filter(survey__name=demo.CSAT_SURVEY).exists()
    assert any("no CSAT answers" in line for line in logged)


# Deterministic, idempotent, chunked


def test_a_second_run_adds_nothing_and_changes_nothing(seeded):
    before = snapshot()
    counts = (Invitation.objects.count(), Response.objects.count())

    seed()

    assert (Invitation.objects.count(), Response.objects.count()) == counts
    assert snapshot() == before


def test_the_same_seed_makes_the_same_invitations_and_answers(seeded):
    before = snapshot()
    Invitation.objects.all().delete()

    demo.seed_surveys(context())

    assert snapshot() == before


def test_answers_are_made_only_for_invitations_this_run_inserted(seeded):
    kept = Invitation.objects.filter(response__isnull=True).first()
    answers = Response.objects.count()

    demo.seed_surveys(context())

    assert Response.objects.count() == answers
    assert not Response.objects.filter(invitation=kept).exists()


def test_queries_stay_few_per_chunk(seeded, django_assert_max_num_queries):
    Invitation.objects.all().delete()
    resolved_demo_tickets(120)
    ctx = context(chunk_size=50)
    chunks = 300 // 50 + 120 // 50 + 1

    with django_assert_max_num_queries(6 * chunks + 12):
        demo.seed_surveys(ctx)

    assert Invitation.objects.aggregate(n=Count("pk"))["n"] > 0
