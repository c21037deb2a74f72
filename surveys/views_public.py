"""The public survey pages at /s/<token>/: no login, no staff data, built for hostile traffic.

- GET shows the question (a ?score= from the e-mail's buttons is pre-chosen, and the page says it is
  not saved yet) and records nothing but the opening; only the form's POST answers.
- Unknown links get the same 404 page whatever the token; expired ones 410; answered ones
  show the answer (and may change it for 24 hours).
- Every request counts against a per-address rate limit, and unknown tokens against a
  tighter one (a flood of guesses gets 429).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm_project.ratelimits import over_limit

from . import services


def _page_rate(group, request):
    return settings.SURVEY_PAGE_RATE


def _too_many(request) -> bool:
    return over_limit(request, group="survey-page", rate=_page_rate)


def _bad_token_flood(request) -> bool:
    return over_limit(request, group="survey-bad-token", rate=lambda group, request: settings.SURVEY_BAD_TOKEN_RATE)


def _public(request, template, context=None, status=200):
    response = render(request, f"surveys/public/{template}", context or {}, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token must not leak to other sites. Not "no-referrer": with it, browsers send "Origin: null" on the
    # form's POST and Django's CSRF check refuses every answer.
    response["Referrer-Policy"] = "same-origin"
    return response


def _limited(request):
    response = _public(request, "limited.html", status=429)
    response["Retry-After"] = "60"
    return response


def _resolve(request, token):
    """(invitation, None) or (None, an error response)."""
    if _too_many(request):
        return None, _limited(request)
    invitation = services.invitation_by_token(token)
    if invitation is None:
        if _bad_token_flood(request):
            return None, _limited(request)
        return None, _public(request, "unknown.html", status=404)
    return invitation, None


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token):
    invitation, error = _resolve(request, token)
    if error:
        return error
    response_row = getattr(invitation, "response", None)
    if response_row is None and invitation.is_expired:
        return _public(request, "expired.html", {"survey": invitation.survey}, status=410)
    can_change = response_row is None or services.can_change_answer(invitation)

    form_error, chosen, comment = "", request.GET.get("score", ""), ""
    if request.method == "POST" and can_change:
        chosen, comment = request.POST.get("score", ""), request.POST.get("comment", "")
        try:
            services.survey_response_submit(invitation=invitation, score=chosen, comment=comment)
        except ValidationError as refusal:
            form_error = " ".join(refusal.messages)
        else:
            return redirect("surveys:answer", token=token)
    elif request.method == "GET":
        services.invitation_mark_opened(invitation=invitation)

    if not (chosen.isdigit() and int(chosen) in invitation.survey.scale):  # a ?score= off the scale chooses nothing
        chosen = ""
    if response_row is not None and not form_error:
        chosen, comment = chosen or str(response_row.score), response_row.comment
    # A score from the e-mail's buttons is only chosen on the page: the saved answer changes with the form.
    changing = request.method == "GET" and response_row is not None and chosen != str(response_row.score)
    context = {
        "survey": invitation.survey,
        "ticket": services.about_ticket(invitation),
        "response": response_row,
        "can_change": can_change,
        "chosen": chosen,
        "comment": comment,
        "error": form_error,
        "max_comment": services.MAX_COMMENT,
        "thanks": response_row is not None and request.method == "GET" and not changing,
        "changing": changing,
        "unsent": response_row is None and request.method == "GET" and chosen != "",
    }
    if response_row is not None and not can_change:
        return _public(request, "answered.html", context)
    return _public(request, "answer.html", context, status=400 if form_error else 200)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    invitation, error = _resolve(request, token)
    if error:
        return error
    if request.method == "POST":
        services.contact_unsubscribe(invitation=invitation)
        return _public(request, "unsubscribed.html")
    return _public(request, "unsubscribe.html")
