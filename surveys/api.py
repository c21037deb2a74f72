"""The surveys API: surveys (CRUD), invitations (read; create = invite and send), responses (read only).

Answering is the public page's job, never the API's; an invitation's token is never shown (only its hash is
stored, and not even that leaves the database).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response as ApiResponse

from contacts.models import Contact
from crm_project import serializers as strict
from crm_project.api import CsvExportMixin, ServiceModelViewSet, raise_as_api_error
from support.models import Ticket

from . import exports, selectors, services
from .filters import InvitationFilter, ResponseFilter, SurveyFilter
from .models import Invitation, Response, Survey

MAX_CONTACTS_PER_CALL = 1000


class TwoDecimals(serializers.FloatField):
    """A rate as the KPIs give theirs: two decimals."""

    def to_representation(self, value):
        return round(super().to_representation(value), 2)


class SurveySerializer(strict.ModelSerializer):
    response_count = serializers.IntegerField(read_only=True, default=None, help_text="Answers so far.")
    score = TwoDecimals(
        read_only=True,
        default=None,
        allow_null=True,
        help_text="NPS (-100 to 100) or CSAT (% scoring 4-5) over the last 90 days; null without answers.",
    )
    score_sample_size = serializers.IntegerField(
        source="recent_responses", read_only=True, default=None, help_text="Answers behind `score`."
    )
    response_rate = TwoDecimals(
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Invitations sent in the last 90 days that have an answer / those sent x 100.",
    )

    class Meta:
        model = Survey
        fields = [
            "id",
            "name",
            "kind",
            "question",
            "low_label",
            "high_label",
            "is_active",
            "send_on_ticket_resolved",
            "created_at",
            "response_count",
            "score",
            "score_sample_size",
            "response_rate",
        ]
        read_only_fields = ["created_at"]
        # The name's uniqueness is checked by the service (full_clean): one 400, the same words as the page.
        extra_kwargs = {"name": {"validators": []}}


class InvitationSerializer(strict.ModelSerializer):
    contact_name = serializers.CharField(source="contact.full_name", read_only=True)
    response = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Invitation
        # Never token_hash: a link opens a survey, and nobody but its recipient has it.
        fields = [
            "id",
            "survey",
            "contact",
            "contact_name",
            "ticket",
            "created_at",
            "sent_at",
            "expires_at",
            "opened_at",
            "response",
            "send_error",
        ]
        read_only_fields = fields


class InviteInput(strict.Serializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    contact = serializers.IntegerField(required=False, min_value=1, help_text="One contact to invite.")
    contacts = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=MAX_CONTACTS_PER_CALL,
        help_text=f"Several contacts to invite (at most {MAX_CONTACTS_PER_CALL:,} per call).",
    )
    ticket = serializers.PrimaryKeyRelatedField(
        queryset=Ticket.objects.all(), required=False, allow_null=True, help_text="The ticket the survey is about."
    )

    def validate(self, attrs):
        if ("contact" in attrs) == ("contacts" in attrs):
            raise serializers.ValidationError("Give either `contact` or `contacts`.")
        ids = sorted({attrs.pop("contact")} if "contact" in attrs else set(attrs.pop("contacts")))
        found = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [pk for pk in ids if pk not in found]
        if unknown:
            raise serializers.ValidationError({"contacts": f"No such contacts: {', '.join(map(str, unknown[:20]))}."})
        ticket = attrs.get("ticket")
        if ticket is not None and ids != [ticket.contact_id]:
            raise serializers.ValidationError({"ticket": "A survey about a ticket goes to the ticket's contact only."})
        attrs["contact_ids"] = ids
        return attrs


class InviteResult(serializers.Serializer):
    invited = serializers.IntegerField(help_text="Invitations created; their e-mails go out in the background.")
    skipped = serializers.IntegerField(help_text="Contacts skipped: opted out, no e-mail, or asked recently.")
    skipped_because = inline_serializer(
        "SkippedBecause",
        {
            "opted_out": serializers.IntegerField(),
            "no_email": serializers.IntegerField(),
            "recently_asked": serializers.IntegerField(help_text="Asked within SURVEY_QUIET_DAYS, or invited already."),
        },
        help_text="Why the skipped contacts were skipped, as the send page says.",
    )
    invitations = InvitationSerializer(many=True)


class ResponseSerializer(strict.ModelSerializer):
    survey = serializers.IntegerField(source="invitation.survey_id", read_only=True)
    survey_name = serializers.CharField(source="invitation.survey.name", read_only=True)
    contact = serializers.IntegerField(source="invitation.contact_id", read_only=True)
    contact_name = serializers.CharField(source="invitation.contact.full_name", read_only=True)
    ticket = serializers.IntegerField(source="invitation.ticket_id", read_only=True, allow_null=True)
    band = serializers.ChoiceField(
        choices=[(key, label) for key, (label, _) in selectors.BANDS.items()],
        read_only=True,
        help_text="promoter / passive / detractor (NPS) or satisfied / unsatisfied (CSAT).",
    )

    class Meta:
        model = Response
        fields = [
            "id",
            "invitation",
            "survey",
            "survey_name",
            "kind",
            "score",
            "band",
            "comment",
            "contact",
            "contact_name",
            "ticket",
            "submitted_at",
            "updated_at",
        ]
        read_only_fields = fields


class SurveyViewSet(ServiceModelViewSet):
    serializer_class = SurveySerializer
    filterset_class = SurveyFilter

    def get_queryset(self):
        return selectors.survey_list().order_by("name", "pk")

    def perform_service_create(self, data):
        return services.survey_create(data=data)

    def perform_service_update(self, instance, data):
        return services.survey_update(survey=instance, data=data)

    def perform_service_delete(self, instance):
        services.survey_delete(survey=instance)


class InvitationViewSet(
    CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    reimport_format = exports.SURVEY_RESPONSES_IMPORT

    def get_queryset(self):
        return selectors.invitation_list().order_by("-created_at", "-pk")

    @extend_schema(request=InviteInput, responses={201: InviteResult, 200: InviteResult})
    def create(self, request, *args, **kwargs):
        """Invite one contact or several, and send the e-mails after the transaction commits.

        Contacts who opted out, have no e-mail address or were asked within the quiet period are skipped, and
        counted by reason; 200 rather than 201 when every one was skipped (nothing was created).
        """
        serializer = InviteInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact_ids = data["contact_ids"]
        plan = selectors.send_preview(survey=data["survey"], contacts=Contact.objects.filter(pk__in=contact_ids))
        try:
            invitations = services.invitations_create(
                survey=data["survey"], contacts=Contact.objects.filter(pk__in=contact_ids), ticket=data.get("ticket")
            )
        except DjangoValidationError as error:
            raise_as_api_error(error)
        shown = self.get_queryset().filter(pk__in=[invitation.pk for invitation in invitations])
        result = {
            "invited": len(invitations),
            "skipped": len(contact_ids) - len(invitations),
            "skipped_because": _skipped_because(plan, skipped=len(contact_ids) - len(invitations)),
            "invitations": InvitationSerializer(shown, many=True, context=self.get_serializer_context()).data,
        }
        return ApiResponse(result, status=status.HTTP_201_CREATED if invitations else status.HTTP_200_OK)


def _skipped_because(plan: dict, *, skipped: int) -> dict[str, int]:
    """The preview's reasons, made to add up to what the service skipped (a contact may have opted out, or been
    invited, between the two): the rest of the skipped were asked recently."""
    opted_out = min(plan["opted_out"], skipped)
    no_email = min(plan["no_email"], skipped - opted_out)
    return {"opted_out": opted_out, "no_email": no_email, "recently_asked": skipped - opted_out - no_email}


class ResponseViewSet(CsvExportMixin, viewsets.ReadOnlyModelViewSet):
    """Survey answers. Read only: customers answer on the public page."""

    serializer_class = ResponseSerializer
    filterset_class = ResponseFilter
    reimport_format = exports.SURVEY_RESPONSES_IMPORT_FROM_RESPONSES

    def get_queryset(self):
        return selectors.response_list().order_by("-submitted_at", "-pk")
