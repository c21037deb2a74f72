"""The public survey page, as a customer on a phone (and a bot with a list of guesses) meets it."""

import datetime
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from surveys.models import Invitation, Response, SurveyKind
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

TOKEN = "Zq3-Yh_8sV0pLmN2xRt5uW7yA9bC1dE4"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def invitation():
    return InvitationFactory(token=TOKEN)


def url(token=TOKEN):
    return f"/s/{token}/"


def test_opening_the_link_shows_the_question_without_login_and_records_no_answer(client, invitation):
    response = client.get(url(), {"score": "9"})

    page = response.content.decode()
    assert response.status_code == 200
    assert invitation.survey.question in page
    assert 'value="9" required checked' in page
    assert "You chose 9. Tap “Send” to save your answer." in page
    assert "Thank you" not in page
    assert not Response.objects.exists()
    assert Invitation.objects.get().opened_at is not None


def test_a_score_off_the_scale_in_the_link_chooses_nothing(client, invitation):
    page = client.get(url(), {"score": "11"}).content.decode()

    assert "checked" not in page
    assert "You chose" not in page


def test_the_page_shows_no_staff_navigation_or_data(client, invitation):
    page = client.get(url()).content.decode()

    assert "navbar" not in page
    assert invitation.contact.email not in page
    assert "/contacts/" not in page


def test_submitting_a_score_and_comment_records_one_response(client, invitation):
    response = client.post(url(), {"score": "10", "comment": "Great support!"}, follow=True)

    stored = Response.objects.get()
    assert (stored.score, stored.comment, stored.kind) == (10, "Great support!", SurveyKind.NPS)
    assert "Thank you" in response.content.decode()


def test_within_a_day_the_same_link_changes_the_answer(client, invitation):
    client.post(url(), {"score": "6"})

    client.post(url(), {"score": "8", "comment": "Thought again"})

    stored = Response.objects.get()
    assert (stored.score, stored.comment) == (8, "Thought again")
    assert stored.updated_at is not None


def test_an_e_mail_button_of_another_score_after_answering_says_the_saved_answer_stands(client, invitation):
    client.post(url(), {"score": "2"})

    page = client.get(url(), {"score": "5"}).content.decode()

    assert "Your saved answer is 2. Tap “Update my answer” to change it to 5." in page
    assert "Your answer is saved" not in page
    assert 'value="5" required checked' in page
    assert Response.objects.get().score == 2


def test_the_same_link_again_thanks_for_the_saved_answer(client, invitation):
    client.post(url(), {"score": "2"})

    for params in ({}, {"score": "2"}, {"score": "<b>"}, {"score": "99"}):
        page = client.get(url(), params).content.decode()
        assert "Thank you! Your answer is saved." in page
        assert 'value="2" required checked' in page


def test_after_a_day_the_link_shows_the_answer_and_changes_nothing(client, invitation):
    Response.objects.create(
        invitation=invitation, kind="nps", score=3, submitted_at=timezone.now() - datetime.timedelta(hours=25)
    )

    shown = client.get(url())
    client.post(url(), {"score": "10"})

    assert shown.status_code == 200
    assert "This survey has been answered" in shown.content.decode()
    assert Response.objects.get().score == 3


def test_a_score_off_the_scale_is_refused_with_a_clear_message(client):
    InvitationFactory(token=TOKEN, survey=SurveyFactory(kind=SurveyKind.CSAT))

    for bad in ("0", "6", "-1", "abc", ""):
        response = client.post(url(), {"score": bad})
        assert response.status_code == 400, bad
        assert "Choose a score" in response.content.decode()
    assert not Response.objects.exists()


def test_a_huge_comment_is_refused(client, invitation):
    response = client.post(url(), {"score": "7", "comment": "x" * 2001})

    assert response.status_code == 400
    assert "too long" in response.content.decode()
    assert not Response.objects.exists()


def test_an_expired_link_says_so_with_410(client):
    sent = timezone.now() - datetime.timedelta(days=40)
    InvitationFactory(token=TOKEN, sent_at=sent, expires_at=sent + datetime.timedelta(days=30))

    shown = client.get(url())
    posted = client.post(url(), {"score": "9"})

    assert shown.status_code == 410
    assert posted.status_code == 410
    assert "expired" in shown.content.decode()
    assert not Response.objects.exists()


def test_unknown_and_tampered_tokens_get_the_same_404(client, invitation):
    tampered = client.get(url(TOKEN[:-1] + "X"))
    random = client.get(url("nothing-like-a-token"))
    odd = client.get(url("%3Cscript%3E"))

    assert tampered.status_code == random.status_code == odd.status_code == 404
    assert tampered.content == random.content == odd.content


def test_a_flood_of_wrong_tokens_gets_429(client, settings):
    settings.SURVEY_BAD_TOKEN_RATE = "5/m"

    statuses = [client.get(url(f"guess-{n:04d}")).status_code for n in range(7)]

    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]


def test_the_form_is_protected_by_csrf(invitation):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(url(), {"score": "9"})

    assert response.status_code == 403
    assert not Response.objects.exists()


def test_the_answer_is_accepted_from_a_browser_that_sends_its_origin(invitation):
    # Browsers send "Origin: null" on a POST from a page with "Referrer-Policy: no-referrer", which the CSRF check
    # refuses: the page must keep a policy under which the browser sends its real origin.
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url())
    token = browser.cookies["csrftoken"].value

    answer = browser.post(url(), {"score": "9", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver")

    assert page["Referrer-Policy"] in {"same-origin", "strict-origin", "strict-origin-when-cross-origin"}
    assert answer.status_code == 302
    assert Response.objects.get().score == 9


def test_a_comment_is_shown_escaped(client, invitation):
    client.post(url(), {"score": "9", "comment": "<script>alert(1)</script>"})

    page = client.get(url()).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_token_is_not_stored_in_clear(invitation):
    assert TOKEN not in Invitation.objects.values_list("token_hash", flat=True).get()


def test_unsubscribing_sets_the_opt_out(client, invitation):
    client.post(f"/s/{TOKEN}/unsubscribe/")

    invitation.contact.refresh_from_db()
    assert invitation.contact.email_opt_out is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_the_same_moment_store_exactly_one_response():
    InvitationFactory(token=TOKEN)
    barrier = threading.Barrier(2)
    statuses = []

    def submit(score):
        try:
            barrier.wait(timeout=5)
            statuses.append(Client().post(url(), {"score": score}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(score,)) for score in ("3", "9")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert Response.objects.count() == 1
    assert sorted(statuses) == [302, 302]  # the second one updates the same response within the day


DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_with_the_cache_down_the_survey_page_still_answers(client, invitation, settings):
    settings.CACHES = DEAD_REDIS

    shown = client.get(url())
    answered = client.post(url(), {"score": "8"})

    assert shown.status_code == 200
    assert answered.status_code == 302
    assert Response.objects.get().score == 8
