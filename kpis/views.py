"""The KPI pages: overview, detail with breakdown and drill-downs, cohorts, targets. They read snapshots only."""

import csv
import hashlib
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from crm_project import outbox
from crm_project.exports import BYTE_ORDER_MARK, spreadsheet_safe
from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import ServiceDeleteView
from kpis import digest, pages, presentation, services
from kpis.cohorts import cohort_table
from kpis.definitions.base import registry
from kpis.forms import DigestForm, KpiFilterForm, KpiTargetForm, raw_dimension
from kpis.models import KpiTarget
from kpis.periods import local_today
from kpis.selectors import kpi_page_cached, kpi_segments, kpi_target_list, last_refresh
from kpis.tasks import refresh_open_periods

logger = logging.getLogger(__name__)

VIEW_PERMISSION = "kpis.view_kpisnapshot"
DEFAULTS = {"granularity": "month", "period": "this", "dimension": "all", "segment": "all"}


class KpiPageMixin(PagePermissionMixin):
    """The period and segment picker shared by the KPI pages."""

    permission_required = VIEW_PERMISSION
    # The partials of the template that rendered_parts() serves from the cache.
    cached_parts: tuple[str, ...] = ()
    # The query parameters those partials depend on: the cache is keyed by them alone, so that other
    # parameters (anything a visitor adds) neither miss the cache nor fill it with copies of the same page.
    cache_parameters: tuple[str, ...] = ("granularity", "period", "on", "dimension", "segment")
    # A value longer than this (no real selection is) is rendered without the cache.
    LONGEST_CACHED_VALUE = 200

    def get_selection(self):
        data = self.request.GET
        dimension = raw_dimension(data)
        granularity = data.get("granularity") or "month"
        segments = kpi_segments(granularity=granularity, dimension=dimension) if dimension != "all" else []
        # Bound with the defaults filled in, so the picker shows what the page shows.
        self.filter_form = KpiFilterForm({**DEFAULTS, **data.dict()}, segments=segments)
        self.selection = self.filter_form.selection()
        return self.selection

    def picker_context(self) -> dict:
        period = self.selection.period
        return {
            "filter_form": self.filter_form,
            "selection": self.selection,
            "period": period,
            "period_range": presentation.date_range(period),
            "dimension_label": presentation.DIMENSION_LABELS.get(self.selection.dimension, ""),
            "refresh": pages.refresh_notice(last_refresh()),
            "query_string": urlencode(self.selection.query()),
        }

    def page_cache_key(self, varies: str = "") -> str | None:
        """The key of the page's cached parts: its path, its `cache_parameters`, today and `varies`; None (not
        cached) when a value is longer than any real selection's."""
        chosen = sorted((name, values) for name, values in self.request.GET.lists() if name in self.cache_parameters)
        if any(len(value) > self.LONGEST_CACHED_VALUE for _, values in chosen for value in values):
            return None
        defined_by = f"{self.request.path}?{urlencode(chosen, doseq=True)}|{local_today()}|{varies}"
        return hashlib.sha1(defined_by.encode()).hexdigest()

    def rendered_parts(self, build_context, *, varies: str = "") -> dict:
        """The page's `cached_parts` (partials of its template) rendered from `build_context()` through the KPI
        cache, keyed by what defines them: the address with its `cache_parameters`, today (what "this period"
        means) and `varies`. With them, the refresh notice, worked out afresh (it reads "... minutes ago")."""

        def render() -> dict:
            context = build_context()
            html = {
                name: render_to_string(f"{self.template_name}#{name}", context, self.request)
                for name in self.cached_parts
            }
            return {"last_refresh": last_refresh(), "html": html}

        key = self.page_cache_key(varies)
        parts = render() if key is None else kpi_page_cached(key, render)
        return {"rendered": parts["html"], "refresh": pages.refresh_notice(parts["last_refresh"])}


class KpiOverviewView(KpiPageMixin, TemplateView):
    template_name = "kpis/overview.html"
    cached_parts = ("heading", "tiles")

    def get_context_data(self, **kwargs):
        def build_context() -> dict:
            selection = self.get_selection()
            return {**self.picker_context(), "areas": pages.overview_areas(selection)}

        return {**super().get_context_data(**kwargs), **self.rendered_parts(build_context)}


def _kpi_or_404(key: str):
    kpi = registry().get(key)
    if kpi is None:
        raise Http404(f"No KPI {key!r}.")
    return kpi


def _breakdown_dimension(kpi, selection, asked: str) -> str | None:
    if asked in kpi.dimensions:
        return asked
    if selection.dimension in kpi.dimensions:
        return selection.dimension
    return kpi.dimensions[0] if kpi.dimensions else None


class KpiDetailView(KpiPageMixin, TemplateView):
    template_name = "kpis/detail.html"
    cached_parts = ("heading", "body")
    cache_parameters = (*KpiPageMixin.cache_parameters, "breakdown", "sort")

    def get_context_data(self, **kwargs):
        kpi = _kpi_or_404(self.kwargs["key"])
        can_set_targets = self.request.user.has_perm("kpis.add_kpitarget")
        return {
            **super().get_context_data(**kwargs),
            "kpi": kpi,
            **self.rendered_parts(
                lambda: self.detail_context(kpi, can_set_targets=can_set_targets), varies=f"targets:{can_set_targets}"
            ),
        }

    def detail_context(self, kpi, *, can_set_targets: bool) -> dict:
        selection = self.get_selection()
        series = pages.detail_series(kpi, selection)
        dimension = _breakdown_dimension(kpi, selection, self.request.GET.get("breakdown", ""))
        breakdown = pages.detail_breakdown(kpi, selection, dimension, self.request.GET.get("sort", "-value"))
        query = selection.query()
        keep = {"breakdown": breakdown["dimension"], "sort": breakdown["sort"]} if breakdown else {}
        return {
            **self.picker_context(),
            "kpi": kpi,
            "parts": presentation.PARTS.get(kpi.key, (None, None)),
            "series": series,
            "change": series["change"],
            "facts": series["facts"],
            "links": series["links"],
            "has_targets": series["has_targets"],
            "breakdown": breakdown,
            "breakdown_choices": [(key, presentation.DIMENSION_LABELS.get(key, key)) for key in kpi.dimensions],
            "distribution": pages.survey_distribution(kpi, series["current"]["row"]),
            "keep": list(keep.items()),
            "query_items": list(query.items()),
            "overview_url": f"{reverse('kpis:overview')}?{urlencode(query)}",
            "can_set_targets": can_set_targets,
            **self.sort_context(kpi, query, breakdown),
        }

    def sort_context(self, kpi, query: dict, breakdown: dict | None) -> dict:
        """The breakdown table's headings, each a link that sorts by it (again: the other way)."""
        if not breakdown:
            return {}
        numerator, denominator = presentation.PARTS.get(kpi.key, (None, None))
        headings = [
            ("segment", breakdown["label"], False),
            ("value", "Value", True),
            ("numerator", numerator, True),
            ("denominator", denominator, True),
            ("sample_size", "Sample size", True),
            ("share", f"Share of {breakdown['share_of']}", True),
        ]
        headings = [heading for heading in headings if heading[1]]
        current = breakdown["sort"]
        columns = []
        for key, label, numeric in headings:
            active = current.lstrip("-") == key
            descending = current.startswith("-")
            following = key if active and descending else f"-{key}" if numeric or active else key
            columns.append(
                {
                    "label": label,
                    "numeric": numeric,
                    "active": active,
                    "descending": descending,
                    "query": urlencode({**query, "breakdown": breakdown["dimension"], "sort": following}),
                }
            )
        active_label = next(column["label"] for column in columns if column["active"])
        order = "highest first" if current.startswith("-") else "lowest first"
        return {"sort_columns": columns, "sort_label": f"{active_label.lower()}, {order}"}


class KpiExportView(KpiPageMixin, View):
    """The detail page's tables as CSV: the series (default) or the breakdown (?table=breakdown)."""

    def get(self, request, key):
        kpi = _kpi_or_404(key)
        selection = self.get_selection()
        response = HttpResponse(BYTE_ORDER_MARK, content_type="text/csv; charset=utf-8")  # as every export for people
        writer = csv.writer(response)
        numerator_label, denominator_label = presentation.PARTS.get(kpi.key, (None, None))
        heading = [numerator_label or "numerator", denominator_label or "denominator", "sample_size"]
        if request.GET.get("table") == "breakdown":
            dimension = _breakdown_dimension(kpi, selection, request.GET.get("breakdown", ""))
            breakdown = pages.detail_breakdown(kpi, selection, dimension, request.GET.get("sort", "-value"))
            name = f"{kpi.key}-{selection.period.start}-by-{dimension}.csv"
            writer.writerow([dimension or "segment", "period_start", kpi.key, *heading, "share_percent"])
            for item in breakdown["items"] if breakdown else []:
                row = item["row"]
                writer.writerow(
                    # A segment is a label someone typed (a region, a campaign): never a formula for the reader.
                    [spreadsheet_safe(item["segment"]), row["period_start"], *_numbers(row), _plain(item["share"])],
                )
        else:
            series = pages.detail_series(kpi, selection)
            name = f"{kpi.key}-{selection.granularity}-{series['segment']}-to-{selection.period.start}.csv"
            writer.writerow(["period_start", "period_end", kpi.key, *heading, "ci_low", "ci_high", "target"])
            for point in series["points"]:
                row = point["row"]
                target = point["target"].value if point["target"] else None
                writer.writerow(
                    [
                        row["period_start"],
                        row["period_end"],
                        *_numbers(row),
                        _plain(row["ci_low"]),
                        _plain(row["ci_high"]),
                        _plain(target),
                    ]
                )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _plain(value) -> str:
    if value is None:
        return ""
    return f"{presentation.rounded(value)}" if not isinstance(value, int) else str(value)  # as the page shows it


def _numbers(row) -> list[str]:
    return [_plain(row["value"]), _plain(row["numerator"]), _plain(row["denominator"]), str(row["sample_size"])]


class KpiCohortView(KpiPageMixin, TemplateView):
    template_name = "kpis/cohorts.html"

    def get_context_data(self, **kwargs):
        selection = self.get_selection()
        table = cohort_table(dimension=selection.dimension, segment=selection.segment)
        return {
            **super().get_context_data(**kwargs),
            **self.picker_context(),
            "table": table,
            "segment_only": True,
            "dimension_unavailable": selection.segmented and table["dimension"] != selection.dimension,
        }


class KpiTargetListView(PagePermissionMixin, TemplateView):
    permission_required = VIEW_PERMISSION
    template_name = "kpis/targets.html"

    def get_context_data(self, **kwargs):
        kpis = registry()
        targets = [
            {
                "target": target,
                "kpi": kpis.get(target.kpi),
                "value": presentation.format_value(kpis[target.kpi].unit if target.kpi in kpis else "", target.value),
            }
            for target in kpi_target_list()
        ]
        return {**super().get_context_data(**kwargs), "targets": targets}


class KpiTargetFormView(PagePermissionMixin, FormView):
    """Set a target (a new one, or replace the one of the same KPI and period)."""

    template_name = "kpis/target_form.html"
    form_class = KpiTargetForm
    success_url = reverse_lazy("kpis:targets")

    def get_permission_required(self):
        return ["kpis.change_kpitarget"] if "pk" in self.kwargs else ["kpis.add_kpitarget"]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if "pk" in self.kwargs:
            kwargs["instance"] = get_object_or_404(KpiTarget, pk=self.kwargs["pk"])
        elif self.request.method == "GET" and self.request.GET.get("kpi") in registry():
            kwargs["initial"] = {"kpi": self.request.GET["kpi"], "granularity": self.request.GET.get("granularity")}
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        earlier = (
            KpiTarget.objects.filter(
                kpi=data["kpi"], granularity=data["granularity"], period_start=data["period_start"]
            )
            .exclude(pk=getattr(form.instance, "pk", None))
            .first()
        )
        target = services.kpi_target_set(
            kpi=data["kpi"],
            granularity=data["granularity"],
            period_start=data["period_start"],
            value=data["value"],
            note=data.get("note", ""),
            user=self.request.user,
            replacing=form.instance,
        )
        replaced = f" It replaces the earlier one, {earlier.value.normalize():f}." if earlier is not None else ""
        messages.success(self.request, f"Target saved: {target}.{replaced}")
        return redirect(self.get_success_url())


class KpiTargetDeleteView(ServiceDeleteView):
    permission_required = "kpis.delete_kpitarget"
    model = KpiTarget
    success_url = reverse_lazy("kpis:targets")

    def perform(self, obj):
        services.kpi_target_delete(target=obj)


def _asked_lately(user) -> bool:
    """Whether `user` asked for a refresh less than a minute ago; if not, this request counts as the asking."""
    try:
        return not cache.add(f"kpi-refresh-asked:{user.pk}", True, timeout=60)
    except Exception:  # the cache is unreachable: let it through (the refresh's own lock runs one at a time)
        logger.warning("Refresh now: the cache is unavailable, not counted", exc_info=True)
        return False


class KpiDigestView(PagePermissionMixin, TemplateView):
    """The weekly digest as the managers get it: last week's movers and what is off target, and who gets it.
    `?on=` a day shows the digest as it went (or goes) out that day."""

    permission_required = VIEW_PERMISSION
    template_name = "kpis/digest.html"

    def get_context_data(self, **kwargs):
        form = DigestForm(self.request.GET or None)
        on = (form.cleaned_data["on"] if form.is_valid() else None) or local_today()
        return {
            **super().get_context_data(**kwargs),
            **digest.digest_content(on),
            "on": on,
            "form": form,
            "recipients": digest.digest_recipients(),
            "schedule": digest.schedule_text(),
            "last_sent": digest.last_sent(),
        }


class KpiRefreshView(PagePermissionMixin, View):
    """ "Refresh now" on the KPI pages: the periodic refresh (open periods and every change since), asked for at
    once. A worker runs it; without one (`make run`) it runs here, before the page comes back. Once a minute per
    user: a refresh of a large company takes seconds of both cores."""

    permission_required = VIEW_PERMISSION
    http_method_names = ["post"]

    def post(self, request):
        back = request.POST.get("next", "")
        if not back.startswith("/kpis/") or not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
            back = reverse("kpis:overview")
        if _asked_lately(request.user):
            messages.info(request, "A refresh was asked for less than a minute ago; its numbers come shortly.")
        elif not outbox.enqueue(refresh_open_periods):
            messages.warning(request, "The task queue cannot be reached: the numbers update once it is back.")
        elif settings.CELERY_TASK_ALWAYS_EAGER:
            messages.success(request, "The KPIs were recomputed from the records.")
        else:
            messages.success(request, "A refresh is on its way: reload in a minute for the new numbers.")
        return redirect(back)
