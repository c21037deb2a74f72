import datetime

import factory
from django.utils import timezone

from surveys.models import Invitation, Survey, SurveyKind, hash_token
from tests.contacts.factories import ContactFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = SurveyKind.NPS
    question = "How likely are you to recommend us to a friend or colleague?"


class InvitationFactory(factory.django.DjangoModelFactory):
    """A sent invitation whose link is `/s/<token>/` with token = the `token` argument (default "tok-<n>")."""

    class Meta:
        model = Invitation
        exclude = ["token"]

    survey = factory.SubFactory(SurveyFactory)
    contact = factory.SubFactory(ContactFactory)
    token = factory.Sequence(lambda n: f"test-token-{n:04d}-abcdefghijklmnop")
    token_hash = factory.LazyAttribute(lambda invitation: hash_token(invitation.token))
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda invitation: invitation.sent_at + datetime.timedelta(days=30))
