"""Template filters available in every template (registered as a builtin in settings)."""

from django import template

register = template.Library()


def display_name(user) -> str:
    """How staff see a colleague: the full name, else the username; empty for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def person(user) -> str:
    return display_name(user) or "—"
