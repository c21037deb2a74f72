"""One router for the whole API; each app's viewsets are registered here."""

from rest_framework.routers import DefaultRouter

from contacts import api as contacts_api

router = DefaultRouter()
router.register("channels", contacts_api.ChannelViewSet, basename="channel")
router.register("companies", contacts_api.CompanyViewSet, basename="company")
router.register("contacts", contacts_api.ContactViewSet, basename="contact")
router.register("interactions", contacts_api.InteractionViewSet, basename="interaction")
