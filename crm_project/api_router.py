"""One router for the whole API; each app's viewsets are registered here."""

from rest_framework.routers import DefaultRouter

from contacts import api as contacts_api
from kpis import api as kpis_api
from sales import api as sales_api
from support import api as support_api
from surveys import api as surveys_api

from . import users_api

# No format-suffix routes (/api/deals/1/win.json): the custom actions do not take a `format` argument, so
# every one of them answered 500 there; `?format=csv` and the Accept header choose the format instead.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("channels", contacts_api.ChannelViewSet, basename="channel")
router.register("companies", contacts_api.CompanyViewSet, basename="company")
router.register("contacts", contacts_api.ContactViewSet, basename="contact")
router.register("interactions", contacts_api.InteractionViewSet, basename="interaction")

router.register("pipelines", sales_api.PipelineViewSet, basename="pipeline")
router.register("campaigns", sales_api.CampaignViewSet, basename="campaign")
router.register("spend", sales_api.SpendViewSet, basename="spend")
router.register("leads", sales_api.LeadViewSet, basename="lead")
router.register("deals", sales_api.DealViewSet, basename="deal")
router.register("orders", sales_api.OrderViewSet, basename="order")
router.register("subscriptions", sales_api.SubscriptionViewSet, basename="subscription")
router.register("customers", sales_api.CustomerViewSet, basename="customer")


router.register("surveys", surveys_api.SurveyViewSet, basename="survey")
router.register("invitations", surveys_api.InvitationViewSet, basename="invitation")
router.register("responses", surveys_api.ResponseViewSet, basename="response")
router.register("tickets", support_api.TicketViewSet, basename="ticket")
router.register("sla-policies", support_api.SlaPolicyViewSet, basename="slapolicy")
router.register("kpis", kpis_api.KpiViewSet, basename="kpi")
router.register("users", users_api.UserViewSet, basename="user")
