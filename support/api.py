"""The help desk API: tickets through the services (CRUD and the workflow actions), SLA policies read-only."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action

from contacts.models import Contact
from crm_project import serializers as strict
from crm_project.api import CsvExportMixin, ServiceModelViewSet

from . import exports, selectors, services
from .filters import TicketFilter
from .models import SlaPolicy, Ticket, TicketMessage

User = get_user_model()


class SlaPolicySerializer(strict.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["id", "priority", "first_response_hours", "resolution_hours"]
        read_only_fields = fields


class TicketMessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "author_kind",
            "author",
            "is_public",
            "body",
            "created_at",
            "email_to",
            "emailed_at",
            "email_error",
        ]
        read_only_fields = fields


class TicketSerializer(strict.ModelSerializer):
    """A ticket; only its subject and contact can be edited: the rest changes through the actions."""

    read_only_hints = {
        "priority": "POST /api/tickets/{id}/priority/",
        "status": "POST /api/tickets/{id}/status/, /resolve/, /reopen/ or /close/",
        "assignee": "POST /api/tickets/{id}/assign/ (GET /api/users/ lists the agents' ids)",
    }
    shown_elsewhere = frozenset({"messages"})  # a GET of one ticket shows its conversation: taken, left alone

    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, default=None)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    opened_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        help_text="The agent who opened the ticket on the customer's behalf; empty when the customer wrote in.",
    )
    next_due_at = serializers.SerializerMethodField(
        help_text="The deadline that matters now: the first response until answered, then the resolution."
    )
    is_overdue = serializers.SerializerMethodField(help_text="Open and past the deadline that matters now.")
    first_response_hours = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Hours from creation to the first reply."
    )
    resolution_hours = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Hours from creation to the latest resolve."
    )
    first_response_met_sla = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Whether the first reply came within the target; empty while it is still running or without one.",
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "contact",
            "contact_name",
            "channel",
            "priority",
            "status",
            "assignee",
            "opened_by",
            "created_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "agent_replies",
            "reopened_count",
            "first_response_due_at",
            "resolution_due_at",
            "next_due_at",
            "is_overdue",
            "first_response_hours",
            "resolution_hours",
            "first_response_met_sla",
            "external_id",
            "updated_at",
        ]
        # Times and counters are kept by the services from what happened; priority, status and
        # assignee change through their actions.
        read_only_fields = [
            "channel",
            "priority",
            "status",
            "created_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "agent_replies",
            "reopened_count",
            "first_response_due_at",
            "resolution_due_at",
            "external_id",
            "updated_at",
        ]

    @staticmethod
    def _next_due_at(ticket: Ticket):
        return ticket.first_response_due_at if ticket.first_response_at is None else ticket.resolution_due_at

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_due_at(self, ticket: Ticket):
        due = self._next_due_at(ticket)
        return serializers.DateTimeField().to_representation(due) if due else None

    def get_is_overdue(self, ticket: Ticket) -> bool:
        due = self._next_due_at(ticket)
        return ticket.is_open and due is not None and due < timezone.now()


class TicketCreateSerializer(TicketSerializer):
    """What an agent or an integration sends to open a ticket with the customer's first message."""

    body = serializers.CharField(
        write_only=True, allow_blank=True, trim_whitespace=False, help_text="The customer's first message."
    )
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.EMAIL)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL)
    assignee_id = serializers.PrimaryKeyRelatedField(
        source="assignee",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="The agent who works the ticket (empty: it waits in the unassigned queue).",
    )
    on_behalf_of_customer = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text=(
            "True when the caller is an agent opening the ticket for the customer (a phone call, say): the caller "
            "is recorded as the one who opened it. An integration posting a customer's e-mail leaves it false."
        ),
    )

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "body", "assignee_id", "on_behalf_of_customer"]
        read_only_fields = [
            field for field in TicketSerializer.Meta.read_only_fields if field not in ("channel", "priority")
        ]


class TicketDetailSerializer(TicketSerializer):
    messages = TicketMessageSerializer(
        many=True, read_only=True, help_text="The conversation, oldest first, internal notes included."
    )

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]


# Action inputs ---------------------------------------------------------------------------------


class TicketMessageInput(strict.Serializer):
    # Blank passes here so that the service refuses it with its own message.
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class TicketAssignInput(strict.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        allow_null=True,
        help_text="The agent's id, or null to put the ticket back in the unassigned queue.",
        error_messages={"does_not_exist": "There is no user with id {pk_value}."},
    )


class TicketPriorityInput(strict.Serializer):
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices)


class TicketStatusInput(strict.Serializer):
    status = serializers.ChoiceField(
        choices=Ticket.Status.choices, help_text="new, open or pending; resolve, reopen and close have their actions."
    )


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Edits of the subject and contact, and deletion: support.services has no service for them yet.


# ViewSets --------------------------------------------------------------------------------------


class SlaPolicyViewSet(CsvExportMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SlaPolicy.objects.order_by("first_response_hours", "pk")
    serializer_class = SlaPolicySerializer
    filterset_class = None


class TicketViewSet(ServiceModelViewSet):
    """Tickets. The list is newest first; `?ordering=due` sorts by SLA urgency as the agents' queue does."""

    filterset_class = TicketFilter
    reimport_format = exports.TICKETS_IMPORT

    def get_queryset(self):
        queryset = selectors.with_sla_urgency(selectors.ticket_list().select_related("opened_by"))
        if self.action == "retrieve":
            conversation = TicketMessage.objects.select_related("author").order_by("created_at", "pk")
            queryset = queryset.prefetch_related(Prefetch("messages", queryset=conversation))
        return queryset.order_by("-created_at", "-pk")

    def get_serializer_class(self):
        if self.action == "create":
            return TicketCreateSerializer
        if self.action == "retrieve":
            return TicketDetailSerializer
        return TicketSerializer

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def create(self, request, *args, **kwargs):
        """Open a ticket with the customer's first message."""
        return super().create(request, *args, **kwargs)

    def perform_service_create(self, data):
        data = dict(data)
        on_behalf = data.pop("on_behalf_of_customer", False)
        return services.ticket_create(
            contact=data.pop("contact", None), **data, opened_by=self.request.user if on_behalf else None
        )

    def perform_service_update(self, instance, data):
        return services.ticket_update(ticket=instance, data=data)

    def perform_service_delete(self, instance):
        services.ticket_delete(ticket=instance)

    def _message(self, service, request, **kwargs):
        return self.run_action(
            service,
            serializer_class=TicketMessageSerializer,
            response_status=status.HTTP_201_CREATED,
            ticket=self.get_object(),
            **_valid(TicketMessageInput, request),
            **kwargs,
        )

    @extend_schema(request=TicketMessageInput, responses={201: TicketMessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        """A public reply to the customer, e-mailed to the ticket's contact after commit (`email_to`; empty without
        an address); the first one sets the first response time."""
        return self._message(services.ticket_reply, request, author=request.user)

    @extend_schema(request=TicketMessageInput, responses={201: TicketMessageSerializer})
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        """An internal note: staff see it, the customer never does; it is not a response."""
        return self._message(services.ticket_add_note, request, author=request.user)

    @extend_schema(request=TicketMessageInput, responses={201: TicketMessageSerializer})
    @action(detail=True, methods=["post"], url_path="customer-message")
    def customer_message(self, request, pk=None):
        """The customer wrote again (what a mail integration posts); on a resolved ticket this reopens it."""
        return self._message(services.ticket_customer_message, request)

    @extend_schema(request=TicketAssignInput, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the ticket to an agent, or back to the unassigned queue."""
        return self.run_action(
            services.ticket_assign, ticket=self.get_object(), actor=request.user, **_valid(TicketAssignInput, request)
        )

    @extend_schema(request=TicketPriorityInput, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="priority")
    def change_priority(self, request, pk=None):
        """Change the priority; the SLA deadlines follow it, counted from creation."""
        return self.run_action(
            services.ticket_change_priority,
            ticket=self.get_object(),
            actor=request.user,
            **_valid(TicketPriorityInput, request),
        )

    @extend_schema(request=TicketStatusInput, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        """Move an unresolved ticket between new, open and pending."""
        return self.run_action(
            services.ticket_change_status,
            ticket=self.get_object(),
            actor=request.user,
            **_valid(TicketStatusInput, request),
        )

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self.run_action(services.ticket_resolve, ticket=self.get_object(), actor=request.user)

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a resolved ticket: it counts a reopening and clears the resolution time."""
        return self.run_action(services.ticket_reopen, ticket=self.get_object(), actor=request.user)

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a resolved ticket: final."""
        return self.run_action(services.ticket_close, ticket=self.get_object(), actor=request.user)
