"""Building blocks shared by every app's API."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

IN_USE_MESSAGE = "Other records still refer to this one."


def raise_as_api_error(error: DjangoValidationError):
    """A model or service ValidationError becomes a 400 with per-field messages."""
    if hasattr(error, "error_dict"):
        # Django names errors of the whole record "__all__"; DRF clients expect "non_field_errors".
        raise ValidationError(
            {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
                for field, messages in error.message_dict.items()
            }
        ) from None
    raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: error.messages}) from None


class ServiceModelViewSet(viewsets.ModelViewSet):
    """CRUD whose writes go through services; a refused write answers 400 and changes nothing.

    Subclasses implement perform_service_create(data), perform_service_update(instance,
    data) and perform_service_delete(instance).
    """

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            instance = self.perform_service_create(serializer.validated_data)
        except DjangoValidationError as error:
            raise_as_api_error(error)
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            self.perform_service_update(instance, serializer.validated_data)
        except DjangoValidationError as error:
            raise_as_api_error(error)
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        try:
            self.perform_service_delete(instance)
        except ProtectedError:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [IN_USE_MESSAGE]}) from None
        except DjangoValidationError as error:
            raise_as_api_error(error)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def run_service(self, service, **kwargs):
        """Call one service; its refusal becomes a 400."""
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise_as_api_error(error)

    def run_action(self, service, *, serializer_class=None, response_status=status.HTTP_200_OK, **kwargs):
        """Run one service for a POST action and answer with the object it returns, serialized."""
        result = self.run_service(service, **kwargs)
        serializer_class = serializer_class or self.get_serializer_class()
        if result is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializer_class(result, context=self.get_serializer_context()).data, status=response_status)
