"""The sales API: CRUD through services, and the workflow actions as POST endpoints."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from contacts import exports as contact_exports
from contacts.models import Channel, Contact
from contacts.selectors import active_users
from crm_project import serializers as strict
from crm_project.api import CsvExportMixin, ServiceModelViewSet

from . import exports, selectors, services
from .filters import CampaignFilter, DealFilter, LeadFilter, OrderFilter, SpendFilter, SubscriptionFilter
from .models import Campaign, Deal, DealStageChange, Lead, Order, Pipeline, Spend, Stage, Subscription


def channel_field():
    return serializers.SlugRelatedField(
        slug_field="name", queryset=Channel.objects.all(), required=False, allow_null=True
    )


def owner_fields():
    """The owner shown by username, set by id."""
    return (
        serializers.SlugRelatedField(slug_field="username", read_only=True),
        serializers.PrimaryKeyRelatedField(
            source="owner", queryset=active_users(), required=False, allow_null=True, write_only=True
        ),
    )


class StageSerializer(strict.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "position", "probability", "kind"]


class PipelineSerializer(strict.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "stages"]


class CampaignSerializer(strict.ModelSerializer):
    channel = channel_field()
    total_spend = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, default=None)
    lead_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Campaign
        fields = ["id", "name", "channel", "starts_on", "ends_on", "budget", "total_spend", "lead_count", "external_id"]
        read_only_fields = ["external_id"]


class SpendSerializer(strict.ModelSerializer):
    channel = channel_field()
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Spend
        fields = ["id", "spent_on", "amount", "category", "channel", "campaign", "description", "external_id"]
        read_only_fields = ["external_id"]


class LeadSerializer(strict.ModelSerializer):
    read_only_hints = {
        "status": "POST /api/leads/{id}/status/, /convert/ or /disqualify/",
        "converted_at": "POST /api/leads/{id}/convert/",
        "disqualified_reason": "POST /api/leads/{id}/disqualify/",
        "contact": "POST /api/leads/{id}/convert/",
        "owner": "write owner_id, the user's id (GET /api/users/ lists them)",
    }
    channel = channel_field()
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
    owner, owner_id = owner_fields()

    class Meta:
        model = Lead
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company_name",
            "message",
            "channel",
            "campaign",
            "owner",
            "owner_id",
            "status",
            "disqualified_reason",
            "contact",
            "created_at",
            "converted_at",
            "external_id",
        ]
        # Status, conversion and its contact change only through the actions.
        read_only_fields = ["status", "disqualified_reason", "contact", "created_at", "converted_at", "external_id"]


class DealSerializer(strict.ModelSerializer):
    read_only_hints = {
        "status": "POST /api/deals/{id}/win/, /lose/ or /reopen/",
        "closed_at": "POST /api/deals/{id}/win/ or /lose/",
        "lost_reason": "POST /api/deals/{id}/lose/",
        "owner": "write owner_id, the user's id (GET /api/users/ lists them)",
    }
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    channel = channel_field()
    owner, owner_id = owner_fields()
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False)
    stage_name = serializers.CharField(source="stage.name", read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "title",
            "contact",
            "company",
            "owner",
            "owner_id",
            "channel",
            "lead",
            "kind",
            "amount",
            "pipeline",
            "stage",
            "stage_name",
            "status",
            "expected_close_date",
            "created_at",
            "closed_at",
            "lost_reason",
            "external_id",
        ]
        read_only_fields = ["company", "lead", "status", "created_at", "closed_at", "lost_reason", "external_id"]

    def validate(self, attrs):
        # Pipeline and stage are chosen when a deal opens; afterwards they move through the actions (a body sent
        # back as it came may name them as they are).
        if self.instance is not None:
            moved = {
                name: [
                    f"This field cannot be changed here (it is {getattr(self.instance, f'{name}_id')} now): "
                    f"POST /api/deals/{self.instance.pk}/move/."
                ]
                for name in ("pipeline", "stage")
                if name in attrs and attrs[name] != getattr(self.instance, name)
            }
            if moved:
                raise serializers.ValidationError(moved)
            attrs.pop("pipeline", None)
            attrs.pop("stage", None)
        return attrs


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage = serializers.CharField(source="from_stage.name", default=None, read_only=True)
    to_stage = serializers.CharField(source="to_stage.name", read_only=True)
    changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DealStageChange
        fields = ["id", "from_stage", "to_stage", "changed_at", "changed_by"]


class OrderSerializer(strict.ModelSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False)
    deal = serializers.PrimaryKeyRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)

    class Meta:
        model = Order
        fields = ["id", "contact", "deal", "ordered_at", "amount", "description", "external_id"]
        read_only_fields = ["external_id"]

    def validate(self, attrs):
        if self.instance is None and not attrs.get("deal") and not attrs.get("contact"):
            raise serializers.ValidationError({"contact": "Give the contact, or the won deal the order comes from."})
        if self.instance is None and not attrs.get("deal") and attrs.get("amount") is None:
            raise serializers.ValidationError({"amount": "This field is required."})
        return attrs


class SubscriptionSerializer(strict.ModelSerializer):
    read_only_hints = {
        "outcome": "POST /api/subscriptions/{id}/renew/ or /cancel/",
        "renews": "POST /api/subscriptions/{id}/renew/ or /cancel/",
        "cancelled_at": "POST /api/subscriptions/{id}/cancel/",
    }
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())

    class Meta:
        model = Subscription
        fields = ["id", "contact", "plan", "amount", "starts_on", "ends_on", "outcome", "renews", "cancelled_at"]
        read_only_fields = ["outcome", "renews", "cancelled_at"]


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "first_name", "last_name", "email", "customer_since", "churned_at"]
        read_only_fields = fields


# Action inputs ---------------------------------------------------------------------------------


class ConvertInput(strict.Serializer):
    deal_title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, min_value=0)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False)
    expected_close_date = serializers.DateField(required=False)


class ReasonInput(strict.Serializer):
    reason = serializers.CharField(max_length=300)


class StatusInput(strict.Serializer):
    status = serializers.ChoiceField(choices=Lead.Status.choices)


class AssignInput(strict.Serializer):
    leads = serializers.PrimaryKeyRelatedField(queryset=Lead.objects.all(), many=True, allow_empty=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=active_users())


class MoveInput(strict.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    lost_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ReopenInput(strict.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False)


class RenewInput(strict.Serializer):
    ends_on = serializers.DateField(required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, min_value=0)
    plan = serializers.CharField(required=False, allow_blank=True, max_length=100)


class AssignResult(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many leads changed owner.")


class ChurnInput(strict.Serializer):
    reason = serializers.CharField(max_length=300)
    at = serializers.DateTimeField(required=False)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# ViewSets --------------------------------------------------------------------------------------


class PipelineViewSet(CsvExportMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Pipeline.objects.prefetch_related("stages").order_by("-is_default", "name")
    serializer_class = PipelineSerializer
    filterset_class = None


class CampaignViewSet(ServiceModelViewSet):
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    reimport_format = exports.CAMPAIGNS_IMPORT

    def get_queryset(self):
        return selectors.campaign_list().order_by("-starts_on", "name", "pk")

    def perform_service_create(self, data):
        return services.campaign_create(data=data)

    def perform_service_update(self, instance, data):
        return services.campaign_update(campaign=instance, data=data)

    def perform_service_delete(self, instance):
        services.campaign_delete(campaign=instance)


class SpendViewSet(ServiceModelViewSet):
    serializer_class = SpendSerializer
    filterset_class = SpendFilter
    reimport_format = exports.SPEND_IMPORT

    def get_queryset(self):
        return selectors.spend_list().order_by("-spent_on", "-pk")

    def perform_service_create(self, data):
        return services.spend_create(data=data)

    def perform_service_update(self, instance, data):
        return services.spend_update(spend=instance, data=data)

    def perform_service_delete(self, instance):
        services.spend_delete(spend=instance)


class LeadViewSet(ServiceModelViewSet):
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    reimport_format = exports.LEADS_IMPORT

    def get_queryset(self):
        return selectors.lead_list().order_by("-created_at", "-pk")

    def perform_service_create(self, data):
        return services.lead_create(data=data, actor=self.request.user)

    def perform_service_update(self, instance, data):
        return services.lead_update(lead=instance, data=data, actor=self.request.user)

    def perform_service_delete(self, instance):
        services.lead_delete(lead=instance)

    @extend_schema(request=ConvertInput, responses={201: DealSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Convert the lead: create or link the contact and company, and open a deal."""
        return self.run_action(
            services.lead_convert,
            serializer_class=DealSerializer,
            response_status=status.HTTP_201_CREATED,
            lead=self.get_object(),
            actor=request.user,
            **_valid(ConvertInput, request),
        )

    @extend_schema(request=ReasonInput, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        return self.run_action(
            services.lead_disqualify, lead=self.get_object(), actor=request.user, **_valid(ReasonInput, request)
        )

    @extend_schema(request=StatusInput, responses=LeadSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        return self.run_action(
            services.lead_change_status, lead=self.get_object(), actor=request.user, **_valid(StatusInput, request)
        )

    @extend_schema(request=AssignInput, responses=AssignResult)
    @action(detail=False, methods=["post"])
    def assign(self, request):
        """Give several leads to one owner: all or none."""
        data = _valid(AssignInput, request)
        changed = self.run_service(services.leads_assign, leads=data["leads"], owner=data["owner"], actor=request.user)
        return Response({"changed": changed})


class DealViewSet(ServiceModelViewSet):
    serializer_class = DealSerializer
    filterset_class = DealFilter
    reimport_format = exports.DEALS_IMPORT

    def get_queryset(self):
        return selectors.deal_list().order_by("-created_at", "-pk")

    def perform_service_create(self, data):
        data = dict(data)
        pipeline, stage = data.pop("pipeline", None), data.pop("stage", None)
        return services.deal_create(data=data, actor=self.request.user, pipeline=pipeline, stage=stage)

    def perform_service_update(self, instance, data):
        return services.deal_update(deal=instance, data=data, actor=self.request.user)

    def perform_service_delete(self, instance):
        services.deal_delete(deal=instance)

    @extend_schema(request=MoveInput, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the deal to another stage of its pipeline (the won or lost stage closes it)."""
        return self.run_action(
            services.deal_move_stage, deal=self.get_object(), actor=request.user, **_valid(MoveInput, request)
        )

    @extend_schema(request=None, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        return self.run_action(services.deal_mark_won, deal=self.get_object(), actor=request.user)

    @extend_schema(request=ReasonInput, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        return self.run_action(
            services.deal_mark_lost, deal=self.get_object(), actor=request.user, **_valid(ReasonInput, request)
        )

    @extend_schema(request=ReopenInput, responses=DealSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self.run_action(
            services.deal_reopen, deal=self.get_object(), actor=request.user, **_valid(ReopenInput, request)
        )

    @extend_schema(responses=StageChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="stage-history")
    def stage_history(self, request, pk=None):
        changes = selectors.deal_stage_history(self.get_object())
        return Response(StageChangeSerializer(changes, many=True).data)


class OrderViewSet(ServiceModelViewSet):
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    reimport_format = exports.ORDERS_IMPORT

    def get_queryset(self):
        return selectors.order_list().order_by("-ordered_at", "-pk")

    def perform_service_create(self, data):
        return services.order_create(data=data, actor=self.request.user)

    def perform_service_update(self, instance, data):
        return services.order_update(order=instance, data=data)

    def perform_service_delete(self, instance):
        services.order_delete(order=instance)


class SubscriptionViewSet(ServiceModelViewSet):
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    reimport_format = exports.SUBSCRIPTIONS_IMPORT
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.subscription_list().order_by("-ends_on", "-pk")

    def perform_service_create(self, data):
        return services.subscription_create(actor=self.request.user, **data)

    @extend_schema(request=RenewInput, responses={201: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """Close this subscription as renewed and return its successor."""
        return self.run_action(
            services.subscription_renew,
            response_status=status.HTTP_201_CREATED,
            subscription=self.get_object(),
            actor=request.user,
            **_valid(RenewInput, request),
        )

    @extend_schema(request=None, responses=SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(services.subscription_cancel, subscription=self.get_object(), actor=request.user)


class CustomerStatePermission(BasePermission):
    """Customer state belongs to sales: reading needs view_deal, churning and reactivating change_deal."""

    def has_permission(self, request, view):
        needed = "sales.view_deal" if request.method in ("GET", "HEAD", "OPTIONS") else "sales.change_deal"
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(needed))


class CustomerViewSet(ServiceModelViewSet):
    """Contacts that are or were customers, with the churn and reactivate actions."""

    permission_classes = [CustomerStatePermission]
    serializer_class = CustomerSerializer
    reimport_format = contact_exports.CONTACTS_IMPORT
    export_name = "customers"
    http_method_names = ["get", "post", "head", "options"]
    filterset_class = None

    def get_queryset(self):
        return Contact.objects.filter(customer_since__isnull=False).order_by("-customer_since", "pk")

    def create(self, request, *args, **kwargs):
        raise MethodNotAllowed("POST", detail="Customers come from won deals; create a contact instead.")

    @extend_schema(request=ChurnInput, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def churn(self, request, pk=None):
        return self.run_action(
            services.customer_mark_churned, contact=self.get_object(), actor=request.user, **_valid(ChurnInput, request)
        )

    @extend_schema(request=None, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self.run_action(services.customer_reactivate, contact=self.get_object(), actor=request.user)
