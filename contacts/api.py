"""The contacts API: explicit serializer fields, the pages' FilterSets, writes through services."""

from django.db.models import ProtectedError
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from crm_project import serializers as strict
from crm_project.api import IN_USE_MESSAGE, CsvExportMixin, ServiceModelViewSet

from . import exports, selectors, services
from .filters import ChannelFilter, CompanyFilter, ContactFilter, InteractionFilter
from .models import Channel, Company, Contact, Interaction, normalize_email


class ChannelSerializer(strict.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name", "is_active"]

    def validate_name(self, value):
        # DRF does not check the case-insensitive (expression) constraint; the database would answer 500.
        taken = Channel.objects.filter(name__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("A channel with this name already exists.")
        return value


class CompanySerializer(strict.ModelSerializer):
    read_only_hints = {
        "external_id": "it is the key an import matches records by (the import page, or manage.py import_records)",
    }
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=selectors.active_users(),
        required=False,
        allow_null=True,
        write_only=True,
    )
    contact_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "size_band",
            "region",
            "owner",
            "owner_id",
            "contact_count",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["external_id", "created_at", "updated_at"]


class ContactSerializer(strict.ModelSerializer):
    read_only_hints = {
        "customer_since": "a contact becomes a customer when a deal of theirs is won (POST /api/deals/{deal}/win/)",
        "churned_at": "POST /api/customers/{id}/churn/ (and /reactivate/)",
        "external_id": "it is the key an import matches records by (the import page, or manage.py import_records)",
        "owner": "write owner_id, the user's id (GET /api/users/ lists them)",
    }
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all(), required=False, allow_null=True)
    company_name = serializers.CharField(source="company.name", read_only=True, default=None)
    channel = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Channel.objects.all(),
        required=False,
        allow_null=True,
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner",
        queryset=selectors.active_users(),
        required=False,
        allow_null=True,
        write_only=True,
    )
    last_interaction_at = serializers.DateTimeField(read_only=True, default=None)

    class Meta:
        model = Contact
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "company_name",
            "job_title",
            "region",
            "industry",
            "channel",
            "owner",
            "owner_id",
            "customer_since",
            "churned_at",
            "email_opt_out",
            "last_interaction_at",
            "external_id",
            "created_at",
            "updated_at",
        ]
        # Customer state is kept by the sales services (winning a deal, churn), never typed in.
        read_only_fields = [
            "customer_since",
            "churned_at",
            "external_id",
            "created_at",
            "updated_at",
        ]
        # Uniqueness is the model's (case-insensitive) constraint; it answers 400 through full_clean.
        extra_kwargs = {"email": {"validators": []}}

    def validate_email(self, value):
        return normalize_email(value)


class InteractionSerializer(strict.ModelSerializer):
    read_only_hints = {"user": "an interaction is logged by the user who calls the API"}
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "contact",
            "kind",
            "direction",
            "occurred_at",
            "user",
            "summary",
            "external_id",
            "created_at",
        ]
        read_only_fields = ["external_id", "created_at"]


class ChannelViewSet(CsvExportMixin, viewsets.ModelViewSet):
    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter

    def perform_destroy(self, instance):
        # Contacts protect their channel: a 400 that says so, not a 500.
        try:
            instance.delete()
        except ProtectedError:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [IN_USE_MESSAGE]}) from None


class CompanyViewSet(ServiceModelViewSet):
    serializer_class = CompanySerializer
    filterset_class = CompanyFilter
    reimport_format = exports.COMPANIES_IMPORT

    def get_queryset(self):
        return selectors.company_list().order_by("name", "pk")

    def perform_service_create(self, data):
        return services.company_create(data={"owner": self.request.user, **data})

    def perform_service_update(self, instance, data):
        return services.company_update(company=instance, data=data)

    def perform_service_delete(self, instance):
        services.company_delete(company=instance)


class ContactViewSet(ServiceModelViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    reimport_format = exports.CONTACTS_IMPORT

    def get_queryset(self):
        return selectors.contact_list().order_by("last_name", "first_name", "pk")

    def perform_service_create(self, data):
        return services.contact_create(data=data, created_by=self.request.user)

    def perform_service_update(self, instance, data):
        return services.contact_update(contact=instance, data=data)

    def perform_service_delete(self, instance):
        services.contact_delete(contact=instance)


class InteractionViewSet(ServiceModelViewSet):
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    reimport_format = exports.INTERACTIONS_IMPORT
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.interaction_list().order_by("-occurred_at", "-pk")

    def perform_service_create(self, data):
        return services.interaction_log(user=self.request.user, **data)

    def perform_service_delete(self, instance):
        services.interaction_delete(interaction=instance)
