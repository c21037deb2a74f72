"""The staff pages of surveys: the list with each survey's numbers, a survey's page, sending, and the answers."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import DetailView

from contacts.filters import ContactFilter
from contacts.models import Contact
from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import FilteredListView, ServiceCreateView, ServiceUpdateView

from . import exports, selectors, services
from .filters import ResponseFilter, SurveyFilter
from .forms import SurveyForm
from .models import Survey

# The contact filters offered on the send page (the rest of ContactFilter still works from a link).
AUDIENCE_FIELDS = ("q", "status", "channel", "region", "industry")
LATEST_SHOWN = 10


class SurveyListView(FilteredListView):
    permission_required = "surveys.view_survey"
    filterset_class = SurveyFilter
    template_name = "surveys/survey_list.html"
    default_ordering = "name"
    export_format = exports.SURVEY_LIST

    def get_base_queryset(self):
        return selectors.survey_list()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "window_days": selectors.SCORE_WINDOW_DAYS}


class SurveyDetailView(PagePermissionMixin, DetailView):
    permission_required = "surveys.view_survey"
    template_name = "surveys/survey_detail.html"
    context_object_name = "survey"

    def get_queryset(self):
        return selectors.survey_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["distribution"] = selectors.score_distribution(survey=self.object)
        context["latest"] = selectors.latest_responses(survey=self.object, limit=LATEST_SHOWN)
        context["window_days"] = selectors.SCORE_WINDOW_DAYS
        context["low_confidence"] = self.object.recent_responses < selectors.LOW_CONFIDENCE_N
        context["interval"] = selectors.score_interval(self.object)
        context["unsatisfied"] = self.object.recent_responses - self.object.satisfied
        return context


class SurveyCreateView(ServiceCreateView):
    permission_required = "surveys.add_survey"
    model = Survey
    form_class = SurveyForm
    template_name = "surveys/survey_form.html"
    success_message = "Survey {object} created."

    def perform(self, form):
        return services.survey_create(data=form.cleaned_data)


class SurveyUpdateView(ServiceUpdateView):
    permission_required = "surveys.change_survey"
    model = Survey
    form_class = SurveyForm
    template_name = "surveys/survey_form.html"
    success_message = "Survey {object} saved."

    def perform(self, form):
        return services.survey_update(survey=self.object, data=form.cleaned_data)


class SurveySendView(PagePermissionMixin, View):
    """Send a survey to one contact (?contact=<id>) or to the contacts a filter selects.

    GET previews who would get it and who is skipped (opted out, no e-mail, asked recently); the POST
    sends only if the preview the manager confirmed still holds (the same number of recipients).
    """

    permission_required = ("surveys.view_survey", "surveys.add_invitation")

    def _audience(self, params):
        """(contacts, the single contact or None, the filter or None)."""
        contact_id = params.get("contact", "").strip()
        if contact_id:
            if not contact_id.isdigit():
                raise Http404("No such contact.")
            contact = get_object_or_404(Contact.objects.select_related("company"), pk=contact_id)
            return Contact.objects.filter(pk=contact.pk), contact, None
        audience_filter = ContactFilter(params, queryset=Contact.objects.all(), request=self.request)
        if not audience_filter.is_valid():
            return Contact.objects.none(), None, audience_filter
        return audience_filter.qs, None, audience_filter

    def _render(self, request, survey, params, status=200):
        contacts, contact, audience_filter = self._audience(params)
        preview = selectors.send_preview(survey=survey, contacts=contacts)
        kept = [
            (name, value)
            for name in (audience_filter.form.fields if audience_filter else ("contact",))
            for value in params.getlist(name)
            if value
        ]
        context = {
            "survey": survey,
            "contact": contact,
            "filter": audience_filter,
            "audience_fields": [audience_filter.form[name] for name in AUDIENCE_FIELDS] if audience_filter else [],
            "preview": preview,
            "kept_params": kept,
            "quiet_days": settings.SURVEY_QUIET_DAYS,
            "link_days": settings.SURVEY_LINK_DAYS,
        }
        return render(request, "surveys/survey_send.html", context, status=status)

    def get(self, request, pk):
        survey = get_object_or_404(Survey, pk=pk)
        return self._render(request, survey, request.GET)

    def post(self, request, pk):
        survey = get_object_or_404(Survey, pk=pk)
        contacts, contact, audience_filter = self._audience(request.POST)
        if audience_filter is not None and not audience_filter.is_valid():
            messages.error(request, "Correct the filters before sending.")
            return self._render(request, survey, request.POST, status=400)
        preview = selectors.send_preview(survey=survey, contacts=contacts)
        if str(preview["will_send"]) != request.POST.get("expected", ""):
            messages.warning(request, "Who would get the survey has changed since the preview: check and send again.")
            return self._render(request, survey, request.POST, status=409)
        if preview["will_send"] == 0:
            messages.error(request, "Nobody to send to: every contact selected is skipped.")
            return self._render(request, survey, request.POST, status=400)
        try:
            invitations = services.invitations_create(survey=survey, contacts=contacts)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return self._render(request, survey, request.POST, status=400)
        if contact is not None and invitations:
            messages.success(request, f"{survey} is on its way to {contact.full_name}.")
        else:
            count = len(invitations)
            messages.success(request, f"{survey} is on its way to {count:,} contact{'' if count == 1 else 's'}.")
        return redirect(survey)


class ResponseListView(FilteredListView):
    permission_required = "surveys.view_response"
    filterset_class = ResponseFilter
    template_name = "surveys/response_list.html"
    default_ordering = "-submitted"
    export_format = exports.RESPONSE_LIST
    reimport_format = exports.SURVEY_RESPONSES_IMPORT_FROM_RESPONSES

    def get_base_queryset(self):
        return selectors.response_list()
