"""The pipeline board and the deal pages. Every move, win, loss and reopening goes through a service."""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView

from audit.views import RecordHistoryMixin
from contacts.models import Contact
from contacts.selectors import contact_timeline
from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import FilteredListView, ServiceCreateView, ServiceDeleteView, ServiceUpdateView

from .. import exports, selectors, services
from ..filters import DealFilter
from ..forms_deals import DealCreateForm, DealForm, DealLoseForm, DealMoveForm, DealReopenForm
from ..models import Deal, Pipeline, Stage

BOARD_FILTERS = ("owner", "channel", "kind")


def currency_context() -> dict:
    return {"currency": settings.CRM_CURRENCY}


def owner_mine_by_default(query: QueryDict, user) -> QueryDict:
    """Deal pages show the user's own deals unless an owner is chosen; an empty owner means anyone."""
    data = query.copy()
    if "owner" not in data:
        data["owner"] = str(user.pk)
    return data


def safe_next(request) -> str:
    """Where to go back to after an action (the board with its filters, a deal page), if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# The board -------------------------------------------------------------------------------------


def _chosen_pipeline(pipelines: list[Pipeline], wanted: str | None) -> Pipeline | None:
    if wanted and wanted.isdigit():
        for pipeline in pipelines:
            if pipeline.pk == int(wanted):
                return pipeline
    return next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)


def board_context(request, query: QueryDict) -> dict:
    """The board of one pipeline for the filters in `query`: a constant number of queries however many deals."""
    pipelines = list(Pipeline.objects.all())
    pipeline = _chosen_pipeline(pipelines, query.get("pipeline"))
    given = QueryDict(mutable=True)
    for name in BOARD_FILTERS:
        if name in query:
            given.setlist(name, query.getlist(name))
    data = owner_mine_by_default(given, request.user)
    filterset = DealFilter(data, queryset=selectors.deal_list(), request=request)
    columns, closing_stages = [], []
    if pipeline is not None:
        deals = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        columns = selectors.pipeline_board(pipeline=pipeline, deals=deals)
        closing_stages = list(pipeline.stages.exclude(kind=Stage.Kind.OPEN).order_by("position"))
        today = timezone.localdate()
        for column in columns:
            for deal in column["deals"]:
                deal.age_days = (today - timezone.localdate(deal.created_at)).days
    kept = {"pipeline": str(pipeline.pk)} if pipeline is not None and len(pipelines) > 1 else {}
    kept.update({name: given[name] for name in BOARD_FILTERS if name in given})
    board_url = reverse("sales:deal_board") + (f"?{urlencode(kept)}" if kept else "")
    return {
        **currency_context(),
        "pipelines": pipelines,
        "pipeline": pipeline,
        "filter": filterset,
        "columns": columns,
        "closing_stages": closing_stages,
        "move_stages": [column["stage"] for column in columns] + closing_stages,
        "board_url": board_url,
        # The filters in effect (owner included when it defaulted to "mine"), for the links to the list.
        "list_query": urlencode({name: data[name] for name in BOARD_FILTERS if name in data}),
    }


def board_response(request, next_url: str, **extra):
    """The board fragment that htmx swaps in after a move, with the filters the user was looking at."""
    query = QueryDict(urlsplit(next_url).query) if next_url else QueryDict()
    context = {**board_context(request, query), **extra}
    return render(request, "sales/board.html#board", context)


class DealBoardView(PagePermissionMixin, View):
    permission_required = "sales.view_deal"

    def get(self, request):
        context = board_context(request, request.GET)
        if request.htmx and not request.htmx.boosted:
            return render(request, "sales/board.html#board", context)
        return render(request, "sales/board.html", context)


def action_done(request, deal: Deal, next_url: str, *, error: ValidationError | None = None, notice: str = ""):
    """Answer an action: the re-rendered board for htmx, else a message and back where the user came from."""
    if request.htmx:
        return board_response(request, next_url, board_error=_error_text(error) if error else "", board_notice=notice)
    if error is not None:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, notice)
    return redirect(next_url or deal.get_absolute_url())


def ask_lost_reason(request, deal: Deal, next_url: str, form: DealLoseForm | None = None):
    """Losing needs a reason: htmx shows a prompt above the board; without JavaScript, a small form page."""
    if request.htmx:
        return board_response(request, next_url, lost_prompt={"deal": deal, "form": form or DealLoseForm()})
    if form is None:  # asked by a move: go to the form page, so that a reload does not post the move again
        lose_url = reverse("sales:deal_lose", args=[deal.pk])
        return redirect(f"{lose_url}?{urlencode({'next': next_url})}" if next_url else lose_url)
    return render(request, "sales/deal_lose.html", {"deal": deal, "form": form, "next": next_url})


class DealMoveView(PagePermissionMixin, View):
    """Move a deal to a stage (the board's drag and drop and its keyboard control, the deal page)."""

    permission_required = "sales.change_deal"
    http_method_names = ["post"]

    def post(self, request, pk):
        deal = get_object_or_404(Deal, pk=pk)
        next_url = safe_next(request)
        form = DealMoveForm(request.POST)
        if not form.is_valid():
            return action_done(request, deal, next_url, error=ValidationError("Choose a stage to move the deal to."))
        stage = form.cleaned_data["stage"]
        try:
            deal = services.deal_move_stage(
                deal=deal, stage=stage, actor=request.user, lost_reason=form.cleaned_data["lost_reason"]
            )
        except ValidationError as error:
            if "lost_reason" in getattr(error, "error_dict", {}):
                return ask_lost_reason(request, deal, next_url)
            return action_done(request, deal, next_url, error=error)
        if deal.status == Deal.Status.WON:
            notice = f"{deal} won."
        elif deal.status == Deal.Status.LOST:
            notice = f"{deal} lost."
        else:
            notice = f"{deal} moved to {stage.name}."
        return action_done(request, deal, next_url, notice=notice)


class DealWinView(PagePermissionMixin, View):
    permission_required = "sales.change_deal"
    http_method_names = ["post"]

    def post(self, request, pk):
        deal = get_object_or_404(Deal, pk=pk)
        try:
            deal = services.deal_mark_won(deal=deal, actor=request.user)
        except ValidationError as error:
            return action_done(request, deal, safe_next(request), error=error)
        return action_done(request, deal, safe_next(request), notice=f"{deal} won.")


class DealLoseView(PagePermissionMixin, View):
    """Mark a deal lost; the reason is required. GET shows the small form page."""

    permission_required = "sales.change_deal"

    def get(self, request, pk):
        deal = get_object_or_404(Deal, pk=pk)
        return render(
            request, "sales/deal_lose.html", {"deal": deal, "form": DealLoseForm(), "next": safe_next(request)}
        )

    def post(self, request, pk):
        deal = get_object_or_404(Deal, pk=pk)
        next_url = safe_next(request)
        form = DealLoseForm(request.POST)
        if not form.is_valid():
            return ask_lost_reason(request, deal, next_url, form)
        try:
            deal = services.deal_mark_lost(deal=deal, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as error:
            if "lost_reason" in getattr(error, "error_dict", {}):
                form.add_error("reason", error.error_dict["lost_reason"])
                return ask_lost_reason(request, deal, next_url, form)
            return action_done(request, deal, next_url, error=error)
        return action_done(request, deal, next_url, notice=f"{deal} lost.")


class DealReopenView(PagePermissionMixin, View):
    permission_required = "sales.change_deal"
    http_method_names = ["post"]

    def post(self, request, pk):
        deal = get_object_or_404(Deal, pk=pk)
        form = DealReopenForm(request.POST)
        if not form.is_valid():
            return action_done(request, deal, safe_next(request), error=ValidationError("Choose an open stage."))
        try:
            deal = services.deal_reopen(deal=deal, actor=request.user, stage=form.cleaned_data["stage"])
        except ValidationError as error:
            return action_done(request, deal, safe_next(request), error=error)
        return action_done(request, deal, safe_next(request), notice=f"{deal} reopened in {deal.stage.name}.")


# The deal list and pages -----------------------------------------------------------------------


class DealListView(FilteredListView):
    permission_required = "sales.view_deal"
    filterset_class = DealFilter
    template_name = "sales/deal_list.html"
    default_ordering = "-created"
    export_format = exports.DEAL_LIST
    reimport_format = exports.DEALS_IMPORT

    def get_base_queryset(self):
        return selectors.deal_list()

    def get_queryset(self):
        data = owner_mine_by_default(self.request.GET, self.request.user)
        if not data.get("ordering"):
            data["ordering"] = self.default_ordering
        self.filterset = self.filterset_class(data, queryset=self.get_base_queryset(), request=self.request)
        return self.filterset.qs if self.filterset.is_valid() else self.filterset.queryset.none()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["totals"] = selectors.deal_totals(self.object_list)
        return {**context, **currency_context()}


class DealDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "sales.view_deal"
    template_name = "sales/deal_detail.html"

    def get_queryset(self):
        return selectors.deal_list().select_related("lead__campaign")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        deal = self.object
        stages = list(deal.pipeline.stages.order_by("position"))
        context.update(
            currency_context(),
            stages=stages,
            open_stages=[stage for stage in stages if stage.kind == Stage.Kind.OPEN],
            history=selectors.deal_stage_history(deal),
            orders=deal.orders.order_by("-ordered_at", "-pk"),
            timeline=contact_timeline(contact=deal.contact, user=self.request.user) if deal.contact_id else [],
            lose_form=DealLoseForm(),
        )
        return context


class DealCreateView(ServiceCreateView):
    permission_required = "sales.add_deal"
    model = Deal
    form_class = DealCreateForm
    template_name = "sales/deal_form.html"
    success_message = "Deal {object} opened."

    def get_initial(self):
        initial = {**super().get_initial(), "owner": self.request.user.pk}
        contact_id = self.request.GET.get("contact", "").strip()
        contact = Contact.objects.filter(pk=contact_id).first() if contact_id.isdigit() else None
        if contact is not None:
            initial.update(contact=contact.pk, company=contact.company_id, channel=contact.channel_id)
            if contact.is_customer:
                initial["kind"] = Deal.Kind.UPSELL
        return initial

    def perform(self, form):
        data = dict(form.cleaned_data)
        stage = data.pop("stage")
        return services.deal_create(data=data, actor=self.request.user, stage=stage)


class DealUpdateView(ServiceUpdateView):
    permission_required = "sales.change_deal"
    model = Deal
    form_class = DealForm
    template_name = "sales/deal_form.html"
    success_message = "Deal {object} saved."

    def perform(self, form):
        return services.deal_update(deal=self.object, data=form.cleaned_data, actor=self.request.user)


class DealDeleteView(ServiceDeleteView):
    permission_required = "sales.delete_deal"
    model = Deal
    success_url = reverse_lazy("sales:deal_list")
    delete_note = "Its stage history is deleted with it."

    def perform(self, obj):
        services.deal_delete(deal=obj)


urlpatterns = [
    path("deals/", DealListView.as_view(), name="deal_list"),
    path("deals/board/", DealBoardView.as_view(), name="deal_board"),
    path("deals/new/", DealCreateView.as_view(), name="deal_create"),
    path("deals/<int:pk>/", DealDetailView.as_view(), name="deal_detail"),
    path("deals/<int:pk>/edit/", DealUpdateView.as_view(), name="deal_update"),
    path("deals/<int:pk>/delete/", DealDeleteView.as_view(), name="deal_delete"),
    path("deals/<int:pk>/move/", DealMoveView.as_view(), name="deal_move"),
    path("deals/<int:pk>/win/", DealWinView.as_view(), name="deal_win"),
    path("deals/<int:pk>/lose/", DealLoseView.as_view(), name="deal_lose"),
    path("deals/<int:pk>/reopen/", DealReopenView.as_view(), name="deal_reopen"),
]
