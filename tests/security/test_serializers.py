"""No serializer of the API shows every field by default or lets a client write what the services keep.

The serializers are found from the API router: every viewset's serializer for every action it answers
(`get_serializer_class` included), and the serializers nested in them. The protected names are in
tests/security/protected_fields.py. Then a few calls try to write such fields and find them unchanged.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from contacts.models import Contact, Interaction
from crm_project.api_router import router
from sales.models import Deal, Lead, Subscription
from support.models import Ticket
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, LeadFactory, stage
from tests.security.protected_fields import PROTECTED, PROTECTED_BY_MODEL

STANDARD_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")
WRITE_ACTIONS = {"create", "update", "partial_update", "destroy"}
PROJECT_APPS = ("contacts.", "sales.", "support.", "surveys.", "kpis.", "crm_project.")
EARLY = "2001-01-01T00:00:00Z"


def _request() -> Request:
    request = Request(APIRequestFactory().get("/api/"))
    request.user = AnonymousUser()
    return request


def _actions(viewset) -> list[str]:
    standard = [action for action in STANDARD_ACTIONS if hasattr(viewset, action)]
    return standard + [extra.__name__ for extra in viewset.get_extra_actions()]


def router_serializers() -> dict[str, type]:
    """ "<prefix>.<action>" -> the serializer class that action uses, for every viewset of the router."""
    found = {}
    for prefix, viewset, _basename in router.registry:
        if not hasattr(viewset, "get_serializer_class"):
            continue  # a plain ViewSet (the KPIs) builds its answers itself: test_plain_viewsets_only_read
        for action in _actions(viewset):
            view = viewset(action=action, request=_request(), format_kwarg=None, args=(), kwargs={})
            found[f"{prefix}.{action}"] = view.get_serializer_class()
    return found


def _model_label(serializer) -> str:
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    return model._meta.label_lower if model is not None else ""


def writable_protected_fields(serializer, path: str) -> list[str]:
    """Writable fields of `serializer` (and of the serializers nested in it) that no client may write."""
    protected = PROTECTED | PROTECTED_BY_MODEL.get(_model_label(serializer), set())
    found = []
    for name, field in serializer.fields.items():
        source = (field.source or name).split(".")[0]
        if field.read_only:
            continue
        if name in protected or source in protected:
            found.append(f"{path}.{name}")
        nested = field.child if isinstance(field, serializers.ListSerializer) else field
        if isinstance(nested, serializers.BaseSerializer):
            found += writable_protected_fields(nested, f"{path}.{name}")
    return found


def nested_serializers(serializer) -> list:
    found = [serializer]
    for field in serializer.fields.values():
        nested = field.child if isinstance(field, serializers.ListSerializer) else field
        if isinstance(nested, serializers.BaseSerializer):
            found += nested_serializers(nested)
    return found


def _all_subclasses(cls) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in (direct, *_all_subclasses(direct))}


def test_the_walk_finds_a_serializer_for_every_viewset_that_has_one():
    found = router_serializers()

    prefixes = {key.split(".")[0] for key in found}
    assert prefixes == {prefix for prefix, viewset, _ in router.registry if hasattr(viewset, "get_serializer_class")}
    assert found["tickets.create"].__name__ == "TicketCreateSerializer"  # get_serializer_class is asked per action
    assert found["tickets.retrieve"].__name__ == "TicketDetailSerializer"


def test_plain_viewsets_only_read():
    # A ViewSet without a serializer class cannot be checked field by field: it must not take writes at all.
    plain = [viewset for _, viewset, _ in router.registry if not hasattr(viewset, "get_serializer_class")]

    for viewset in plain:
        assert not [action for action in _actions(viewset) if action in WRITE_ACTIONS], viewset
        assert all(extra.mapping.keys() <= {"get"} for extra in viewset.get_extra_actions()), viewset


def test_no_serializer_shows_every_field_by_default():
    reachable = {
        type(serializer)
        for serializer_class in router_serializers().values()
        for serializer in nested_serializers(serializer_class(context={"request": _request()}))
    }
    ours = {cls for cls in _all_subclasses(serializers.ModelSerializer) if cls.__module__.startswith(PROJECT_APPS)}

    everything = sorted(
        cls.__qualname__
        for cls in reachable | ours
        if getattr(getattr(cls, "Meta", None), "fields", None) == serializers.ALL_FIELDS
        or getattr(getattr(cls, "Meta", None), "exclude", None) is not None
    )
    assert not everything, f"list the fields explicitly in: {everything}"


def test_no_serializer_accepts_writes_to_ownership_service_times_state_or_computed_fields():
    writable = []
    for key, serializer_class in router_serializers().items():
        writable += writable_protected_fields(serializer_class(context={"request": _request()}), key)

    assert not writable, f"make these read-only (or leave them out): {sorted(set(writable))}"


# Writing them anyway: refused (400, saying how they change), and nothing of the request is written --------------


@pytest.mark.django_db
def test_a_contact_edit_cannot_make_a_customer_or_backdate_the_record(sales_api):
    contact = ContactFactory()
    created = contact.created_at

    response = sales_api.patch(
        f"/api/contacts/{contact.pk}/",
        {"first_name": "Ada", "customer_since": EARLY, "churned_at": EARLY, "created_at": EARLY, "external_id": "x"},
        format="json",
    )

    contact.refresh_from_db()
    assert response.status_code == 400
    assert set(response.json()) == {"customer_since", "churned_at", "external_id"}  # created_at: left alone
    assert contact.first_name != "Ada"
    assert (contact.customer_since, contact.churned_at, contact.created_at) == (None, None, created)
    assert not contact.external_id


@pytest.mark.django_db
def test_a_new_ticket_starts_fresh_whatever_times_state_and_counters_are_sent(support_api, make_user):
    someone_else = make_user("support")
    response = support_api.post(
        "/api/tickets/",
        {
            "subject": "Printer on fire",
            "body": "Help.",
            "contact": ContactFactory().pk,
            "status": "closed",
            "first_response_at": EARLY,
            "resolved_at": EARLY,
            "closed_at": EARLY,
            "created_at": EARLY,
            "agent_replies": 7,
            "reopened_count": 3,
            "opened_by": someone_else.username,
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["status"]  # the times and counters the system keeps are left alone
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_lead_edit_cannot_convert_it_or_link_a_contact(sales_api):
    lead = LeadFactory()
    contact = ContactFactory()

    response = sales_api.patch(
        f"/api/leads/{lead.pk}/",
        {"company_name": "Renamed", "status": "converted", "converted_at": EARLY, "contact": contact.pk},
        format="json",
    )

    lead.refresh_from_db()
    assert response.status_code == 400
    assert set(response.json()) == {"status", "converted_at", "contact"}
    assert lead.company_name != "Renamed"
    assert (lead.status, lead.converted_at, lead.contact_id) == (Lead.Status.NEW, None, None)


@pytest.mark.django_db
def test_a_deal_edit_cannot_win_it_or_make_its_contact_a_customer(sales_api):
    deal = DealFactory()

    response = sales_api.patch(
        f"/api/deals/{deal.pk}/",
        {"amount": "7000.00", "status": "won", "closed_at": EARLY, "stage": stage("Won").pk},
        format="json",
    )

    deal.refresh_from_db()
    assert response.status_code == 400
    assert set(response.json()) == {"status", "closed_at"}
    assert str(deal.amount) != "7000.00"
    assert (deal.status, deal.closed_at, deal.stage.kind) == (Deal.Status.OPEN, None, "open")
    assert Contact.objects.get(pk=deal.contact_id).customer_since is None


@pytest.mark.django_db
def test_an_interaction_is_logged_by_the_caller_whoever_the_input_names(sales_api, sales_user, make_user):
    colleague = make_user("sales")

    response = sales_api.post(
        "/api/interactions/",
        {"contact": ContactFactory().pk, "kind": "call", "summary": "Rang", "user": colleague.username},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"user"}
    assert not Interaction.objects.exists()
    response = sales_api.post(
        "/api/interactions/", {"contact": ContactFactory().pk, "kind": "call", "summary": "Rang"}, format="json"
    )
    assert response.status_code == 201
    assert Interaction.objects.get().user == sales_user


@pytest.mark.django_db
def test_a_new_subscription_is_active_whatever_outcome_is_sent(sales_api):
    response = sales_api.post(
        "/api/subscriptions/",
        {
            "contact": ContactFactory().pk,
            "plan": "Team",
            "amount": "100.00",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "outcome": "cancelled",
            "cancelled_at": EARLY,
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"outcome", "cancelled_at"}
    assert "/cancel/" in response.json()["cancelled_at"][0]
    assert not Subscription.objects.exists()
