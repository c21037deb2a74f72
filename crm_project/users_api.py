"""`/api/users/`: who can own or be given records, so that an integration can turn the usernames the API shows
into the ids it writes (`owner_id`, a ticket's assignee) and filters by (`?owner=`)."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from rest_framework import permissions, serializers, viewsets

from contacts.filters import StableOrderingFilter
from contacts.selectors import active_users

from .roles import ROLE_NAMES


class InRole(permissions.BasePermission):
    """Staff in one of the roles (or a superuser): the people who see owners and assignees on records."""

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user and user.is_authenticated and (user.is_superuser or user.groups.filter(name__in=ROLE_NAMES).exists())
        )


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)
    roles = serializers.SerializerMethodField(help_text="The user's roles: sales, support, manager, admin.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "name", "email", "roles"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return [group.name for group in user.role_groups]


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search username, name or e-mail")
    role = django_filters.ChoiceFilter(
        field_name="groups__name", choices=[(name, name) for name in ROLE_NAMES], label="Role"
    )
    ordering = StableOrderingFilter(fields=(("username", "username"),))

    class Meta:
        model = get_user_model()
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Active users, by username, with their ids and roles. Read-only: accounts are managed in the admin."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    permission_classes = [InRole]

    def get_queryset(self):
        from django.contrib.auth.models import Group

        roles = Group.objects.filter(name__in=ROLE_NAMES).order_by("name")
        return active_users().prefetch_related(Prefetch("groups", queryset=roles, to_attr="role_groups"))
