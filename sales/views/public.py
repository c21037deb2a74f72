"""The public lead form: a stable URL a website links to or embeds, usable without an account.

A bot that fills the honeypot, or a client address that floods the form, is answered
without anything being stored.
"""

import logging

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_http_methods, require_safe

from contacts.models import Channel
from crm_project.client_address import client_address
from crm_project.ratelimits import over_limit

from .. import services
from ..forms import PublicLeadForm

logger = logging.getLogger(__name__)

WEB_FORM_CHANNEL = "Web form"


def lead_form_rate(group, request) -> str:
    """Read at each request, so the setting can change without touching the view."""
    return settings.LEAD_FORM_RATE


def web_form_channel() -> Channel:
    """The "Web form" channel, whatever its case; created the first time a visitor sends the form."""
    channel, _ = Channel.objects.get_or_create(name__iexact=WEB_FORM_CHANNEL, defaults={"name": WEB_FORM_CHANNEL})
    return channel


# Websites embed these pages in an iframe (the sites in LEAD_FORM_FRAME_ANCESTORS); staff pages stay unframeable.
embeddable = csp_replace({"frame-ancestors": settings.LEAD_FORM_FRAME_ANCESTORS})


@login_not_required
@xframe_options_exempt
@embeddable
@require_http_methods(["GET", "HEAD", "POST"])
def public_lead_form(request):
    form = PublicLeadForm(request.POST or None)
    if request.method == "POST" and over_limit(request, group="public-lead-form", rate=lead_form_rate):
        logger.warning("Public lead form: rate limit reached for %s", client_address(request))
        # The form again with what the visitor typed, so that nothing is lost by waiting; nothing is stored.
        context = {"form": form, "limited": True}
        return render(request, "sales/public_lead_form.html", context, status=429)
    if request.method == "POST" and form.is_valid():
        if form.is_bot:
            # Answer exactly as for a person, so the bot learns nothing; store nothing.
            logger.info("Public lead form: honeypot filled, nothing stored")
            return redirect("sales:public_lead_thanks")
        try:
            services.lead_create(data=form.lead_data(web_form_channel()))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("sales:public_lead_thanks")
    status = 400 if form.is_bound else 200
    return render(request, "sales/public_lead_form.html", {"form": form}, status=status)


@login_not_required
@xframe_options_exempt  # shown in the same iframe after sending
@embeddable
@require_safe
def public_lead_thanks(request):
    return render(request, "sales/public_lead_thanks.html")


urlpatterns = [
    path("lead-form/", public_lead_form, name="public_lead_form"),
    path("lead-form/thanks/", public_lead_thanks, name="public_lead_thanks"),
]
