"""Satisfaction KPIs of KPIS.md (CSAT, NPS, survey response rate), worked out by hand."""

import datetime
import math

import pytest

from surveys.models import Response, SurveyKind
from tests.kpis.conftest import (
    ZONES,
    assert_interval,
    assert_kpi,
    at,
    channel,
    days,
    hours,
    just_before,
    make_customer,
    make_ticket,
    refresh_kpis,
    user,
)
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

Z_95 = 1.96


def invite(survey, *, sent, contact=None, ticket=None):
    contact = contact or (ticket.contact if ticket else make_customer(at(2024, 1, 1)))
    expires = sent + days(30) if sent else None
    return InvitationFactory(survey=survey, contact=contact, ticket=ticket, sent_at=sent, expires_at=expires)


def answer(survey, score: int, submitted: datetime.datetime, **invitation) -> Response:
    """An invitation sent the day before, answered with `score` at `submitted`."""
    sent = invitation.pop("sent", submitted - days(1))
    return Response.objects.create(
        invitation=invite(survey, sent=sent, **invitation), kind=survey.kind, score=score, submitted_at=submitted
    )


def wilson_percent(satisfied: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of satisfied / n, in percent."""
    p, z2 = satisfied / n, Z_95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return 100 * (centre - half), 100 * (centre + half)


def nps_margin(promoters: int, detractors: int, n: int) -> float:
    """KPIS.md: 1.96 x 100 sqrt((p + d - (p - d)^2) / n)."""
    p, d = promoters / n, detractors / n
    return Z_95 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)


# --- csat -------------------------------------------------------------------------------------------------------


def csat_history():
    """CSAT answers about an e-mail ticket (ana's) and a chat ticket (ben's):
    March e-mail 5, 4, 3 and chat 5, 1 -> 3 satisfied of 5; April e-mail 4, chat 2 -> 1 of 2; May none.
    NPS answers in March are not CSAT answers."""
    csat = SurveyFactory(name="Support CSAT", kind=SurveyKind.CSAT, question="How satisfied were you?")
    nps = SurveyFactory(name="Quarterly NPS", kind=SurveyKind.NPS)
    by_email = make_ticket(at(2025, 2, 20), resolved=at(2025, 2, 21), channel="email", assignee=user("ana"))
    by_chat = make_ticket(at(2025, 2, 20), resolved=at(2025, 2, 21), channel="chat", assignee=user("ben"))
    for score, submitted, ticket in [
        (5, at(2025, 3, 2), by_email),
        (4, at(2025, 3, 9), by_email),
        (3, at(2025, 3, 16), by_email),
        (5, at(2025, 3, 3), by_chat),
        (1, at(2025, 3, 31, 23), by_chat),
        (4, at(2025, 4, 2), by_email),
        (2, at(2025, 4, 3), by_chat),
    ]:
        answer(csat, score, submitted, ticket=ticket)
    answer(nps, 10, at(2025, 3, 5))
    answer(nps, 0, at(2025, 3, 6))


def test_csat_is_the_share_of_satisfied_answers_with_a_wilson_interval(kpi_api):
    csat_history()

    refresh_kpis("csat", granularity="month")
    months = kpi_api.by_period("csat", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], 3 / 5 * 100, numerator=3, denominator=5, sample_size=5)
    assert_interval(months["2025-03-01"], *wilson_percent(3, 5))  # about 23.07 to 88.24
    assert_kpi(months["2025-04-01"], 1 / 2 * 100, numerator=1, denominator=2, sample_size=2)
    assert_interval(months["2025-04-01"], *wilson_percent(1, 2))
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)
    assert months["2025-05-01"]["ci_low"] is None
    assert months["2025-05-01"]["ci_high"] is None


def test_csat_by_channel_is_the_tickets_channel(kpi_api):
    csat_history()

    refresh_kpis("csat", granularity="month")
    cells = kpi_api.by_segment("csat", "channel", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "email")], round(2 / 3 * 100, 2), numerator=2, denominator=3, sample_size=3)
    assert_interval(cells[("2025-03-01", "email")], *wilson_percent(2, 3))
    assert_kpi(cells[("2025-03-01", "chat")], 1 / 2 * 100, numerator=1, denominator=2, sample_size=2)


def test_csat_by_assignee_is_the_tickets_assignee(kpi_api):
    csat_history()

    refresh_kpis("csat", granularity="month")
    cells = kpi_api.by_segment("csat", "assignee", start="2025-04-01", end="2025-04-30")

    assert_kpi(cells[("2025-04-01", "ana")], 1 / 1 * 100, numerator=1, denominator=1)
    assert_kpi(cells[("2025-04-01", "ben")], 0 / 1 * 100, numerator=0, denominator=1)


@pytest.mark.parametrize("tz", ZONES)
def test_csat_goes_by_the_local_submission_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    csat = SurveyFactory(name="Support CSAT", kind=SurveyKind.CSAT, question="How satisfied were you?")
    april = at(2025, 4, 1, tz=tz)
    answer(csat, 5, april)
    answer(csat, 2, just_before(april))

    refresh_kpis("csat", granularity="month")
    months = kpi_api.by_period("csat", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1)


# --- nps --------------------------------------------------------------------------------------------------------


def nps_history():
    """NPS answers. March: a Referral customer (North) 10, 9, 9, 6; a Paid ads customer (South) 10, 9, 8, 7, 3, 0
    -> 5 promoters, 2 passives, 3 detractors of 10. April: 10, 9, 9, 7, 5, 6 -> 3, 1, 2 of 6. A CSAT answer in
    March is not an NPS answer."""
    nps = SurveyFactory(name="Quarterly NPS", kind=SurveyKind.NPS)
    csat = SurveyFactory(name="Support CSAT", kind=SurveyKind.CSAT, question="How satisfied were you?")
    referral = make_customer(at(2024, 1, 1), channel=channel("Referral"), region="North")
    paid = make_customer(at(2024, 1, 1), channel=channel("Paid ads"), region="South")
    for score in (10, 9, 9, 6):
        answer(nps, score, at(2025, 3, 10), contact=referral)
    for score in (10, 9, 8, 7, 3, 0):
        answer(nps, score, at(2025, 3, 20), contact=paid)
    for score in (10, 9, 9, 7, 5, 6):
        answer(nps, score, at(2025, 4, 15), contact=referral)
    answer(csat, 1, at(2025, 3, 12), contact=paid)


def test_nps_is_promoters_minus_detractors_with_its_margin_of_error(kpi_api):
    nps_history()

    refresh_kpis("nps", granularity="month")
    months = kpi_api.by_period("nps", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    march = 5 / 10 * 100 - 3 / 10 * 100  # 20
    assert_kpi(months["2025-03-01"], march, numerator=5 - 3, denominator=10, sample_size=10)
    assert_interval(months["2025-03-01"], march - nps_margin(5, 3, 10), march + nps_margin(5, 3, 10))  # +/- 54.03
    april = 3 / 6 * 100 - 2 / 6 * 100  # 16.67
    assert_kpi(months["2025-04-01"], round(april, 2), numerator=3 - 2, denominator=6, sample_size=6)
    assert_interval(months["2025-04-01"], april - nps_margin(3, 2, 6), april + nps_margin(3, 2, 6))
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


def test_nps_by_channel_of_the_contact(kpi_api):
    nps_history()

    refresh_kpis("nps", granularity="month")
    cells = kpi_api.by_segment("nps", "channel", start="2025-03-01", end="2025-03-31")

    referral = 3 / 4 * 100 - 1 / 4 * 100
    assert_kpi(cells[("2025-03-01", "Referral")], referral, numerator=3 - 1, denominator=4, sample_size=4)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 2 / 6 * 100 - 2 / 6 * 100, numerator=0, denominator=6)


def test_nps_by_region_of_the_contact(kpi_api):
    nps_history()

    refresh_kpis("nps", granularity="month")
    cells = kpi_api.by_segment("nps", "region", start="2025-03-01", end="2025-04-30")

    assert_kpi(cells[("2025-03-01", "North")], 3 / 4 * 100 - 1 / 4 * 100)
    assert_kpi(cells[("2025-03-01", "South")], 2 / 6 * 100 - 2 / 6 * 100)
    assert_kpi(cells[("2025-04-01", "North")], round(3 / 6 * 100 - 2 / 6 * 100, 2))


@pytest.mark.parametrize("tz", ZONES)
def test_nps_goes_by_the_local_submission_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    nps = SurveyFactory(name="Quarterly NPS", kind=SurveyKind.NPS)
    april = at(2025, 4, 1, tz=tz)
    answer(nps, 10, april)
    answer(nps, 0, just_before(april))
    answer(nps, 8, just_before(april))

    refresh_kpis("nps", granularity="month")
    months = kpi_api.by_period("nps", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 2 * 100 - 1 / 2 * 100, numerator=-1, denominator=2)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100 - 0 / 1 * 100, numerator=1, denominator=1)


# --- survey_response_rate ---------------------------------------------------------------------------------------


def invitation_history():
    """Invitations by month sent. March: Quarterly NPS 4 sent, 3 answered (one of them in April);
    Support CSAT 2 sent, 1 answered; one NPS invitation never sent. April: NPS 3 sent, 1 answered. May: none."""
    nps = SurveyFactory(name="Quarterly NPS", kind=SurveyKind.NPS)
    csat = SurveyFactory(name="Support CSAT", kind=SurveyKind.CSAT, question="How satisfied were you?")
    answer(nps, 9, at(2025, 3, 4), sent=at(2025, 3, 3))
    answer(nps, 3, at(2025, 3, 11), sent=at(2025, 3, 10))
    answer(nps, 7, at(2025, 4, 2), sent=at(2025, 3, 30))  # sent in March, answered in April: March's
    invite(nps, sent=at(2025, 3, 12))
    invite(nps, sent=None)  # drafted, never sent
    answer(csat, 5, at(2025, 3, 6), sent=at(2025, 3, 5))
    invite(csat, sent=at(2025, 3, 7))
    answer(nps, 10, at(2025, 4, 10), sent=at(2025, 4, 9))
    invite(nps, sent=at(2025, 4, 12))
    invite(nps, sent=at(2025, 4, 20))


def test_survey_response_rate_is_answered_over_sent_invitations(kpi_api):
    invitation_history()

    refresh_kpis("survey_response_rate", granularity="month")
    months = kpi_api.by_period("survey_response_rate", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], round(4 / 6 * 100, 2), numerator=4, denominator=6, sample_size=6)
    assert_kpi(months["2025-04-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3, sample_size=3)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


def test_survey_response_rate_by_survey(kpi_api):
    invitation_history()

    refresh_kpis("survey_response_rate", granularity="month")
    cells = kpi_api.by_segment("survey_response_rate", "survey", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "Quarterly NPS")], 3 / 4 * 100, numerator=3, denominator=4)
    assert_kpi(cells[("2025-03-01", "Support CSAT")], 1 / 2 * 100, numerator=1, denominator=2)


@pytest.mark.parametrize("tz", ZONES)
def test_survey_response_rate_goes_by_the_local_month_sent(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    nps = SurveyFactory(name="Quarterly NPS", kind=SurveyKind.NPS)
    april = at(2025, 4, 1, tz=tz)
    answer(nps, 9, april + hours(3), sent=april)
    invite(nps, sent=just_before(april))

    refresh_kpis("survey_response_rate", granularity="month")
    months = kpi_api.by_period("survey_response_rate", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1)
