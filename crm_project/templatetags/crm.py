"""Template filters available in every template (registered as a builtin in settings)."""

from decimal import Decimal

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from crm_project.auth import role_names

register = template.Library()


def display_name(user) -> str:
    """How staff see a colleague: the full name, else the username; empty for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def person(user) -> str:
    return display_name(user) or "—"


def format_money(amount) -> str:
    """1234.5 -> "1,234.50 EUR" (the base currency, settings.CRM_CURRENCY)."""
    from django.conf import settings

    if amount is None or amount == "":
        return "—"
    return f"{Decimal(amount):,.2f} {settings.CRM_CURRENCY}"


@register.filter
def money(amount) -> str:
    return format_money(amount)


@register.filter
def roles(user) -> list[str]:
    """The user's role names (read with the user's permissions, in the same query)."""
    return role_names(user)


@register.filter
def breakable_email(address) -> str:
    """An e-mail address that a narrow column may wrap after its @ and before its dots, never inside a word."""
    if not address:
        return "—"
    return mark_safe(conditional_escape(address).replace("@", "@<wbr>").replace(".", "<wbr>."))
