from django.contrib import admin

from crm_project.permissions import CascadeCheckedAdmin

from .models import Channel, Company, Contact, Interaction


@admin.register(Channel)
class ChannelAdmin(CascadeCheckedAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(Company)
class CompanyAdmin(CascadeCheckedAdmin):
    list_display = ["name", "domain", "industry", "size_band", "region", "owner"]
    list_filter = ["size_band", "industry", "region"]
    search_fields = ["name", "domain", "external_id"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]


class InteractionInline(admin.TabularInline):
    model = Interaction
    extra = 0
    fields = ["kind", "direction", "occurred_at", "user", "summary"]
    autocomplete_fields = ["user"]
    show_change_link = True


@admin.register(Contact)
class ContactAdmin(CascadeCheckedAdmin):
    list_display = [
        "__str__",
        "email",
        "company",
        "channel",
        "owner",
        "customer_since",
        "churned_at",
    ]
    list_filter = ["channel", "email_opt_out", "region"]
    search_fields = ["first_name", "last_name", "email", "external_id", "company__name"]
    list_select_related = ["company", "channel", "owner"]
    autocomplete_fields = ["company", "owner"]
    date_hierarchy = "created_at"
    inlines = [InteractionInline]


@admin.register(Interaction)
class InteractionAdmin(CascadeCheckedAdmin):
    list_display = ["contact", "kind", "direction", "occurred_at", "user"]
    list_filter = ["kind", "direction"]
    search_fields = ["summary", "contact__email", "contact__last_name"]
    list_select_related = ["contact", "user"]
    autocomplete_fields = ["contact", "user"]
    date_hierarchy = "occurred_at"
