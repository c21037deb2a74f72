"""The KPI API: definitions with their latest values, and the series of one KPI."""

import datetime
from decimal import Decimal, InvalidOperation

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from crm_project.validators import plausible_date
from kpis.definitions.base import registry
from kpis.periods import GRANULARITIES, local_today, period_containing
from kpis.presentation import rounded
from kpis.selectors import kpi_overview, kpi_series
from kpis.sql import ALL

DEFAULT_PERIODS = 12


class CanReadKpis(permissions.BasePermission):
    """Managers and admins (whoever may view snapshots)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("kpis.view_kpisnapshot"))


def _number(value):
    return None if value is None else float(value)


def _rounded(value):
    return None if value is None else float(rounded(value))


class KpiDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    area = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.CharField(allow_null=True)
    formula = serializers.CharField()
    note = serializers.CharField()
    dimensions = serializers.ListField(child=serializers.CharField())


class KpiOverviewSerializer(KpiDefinitionSerializer):
    granularity = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    period_under_way = serializers.BooleanField(
        help_text="The period has not ended: a KPI that accumulates (accumulates: true) counts so far."
    )
    accumulates = serializers.BooleanField(
        help_text=(
            "The value builds up over the period: a count or sum of what happened in it (revenue, new leads), or a "
            "rate of it over the customers at its start (churn, upsells); while the period is under way, so far."
        )
    )
    value = serializers.FloatField(allow_null=True)
    previous_value = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    sample_size = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)


class KpiPointSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    segment = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    sample_size = serializers.IntegerField()
    ci_low = serializers.FloatField(allow_null=True, required=False)
    ci_high = serializers.FloatField(allow_null=True, required=False)
    details = serializers.DictField()
    computed_at = serializers.DateTimeField(allow_null=True)


class SeriesQuerySerializer(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=GRANULARITIES, default="month")
    start = serializers.DateField(required=False, validators=[plausible_date])
    end = serializers.DateField(required=False, validators=[plausible_date])
    segment = serializers.CharField(required=False, default=ALL)

    def validate(self, attrs):
        kpi = self.context["kpi"]
        dimension = attrs["segment"]
        if dimension != ALL and dimension not in kpi.dimensions:
            choices = ", ".join(kpi.dimensions) or "none"
            raise serializers.ValidationError({"segment": f"{kpi.key} has no dimension {dimension!r}; use {choices}."})
        granularity = attrs["granularity"]
        end = attrs.get("end") or local_today()
        start = attrs.get("start")
        if start is None:
            start = period_containing(granularity, end).start
            for _ in range(DEFAULT_PERIODS - 1):
                start = period_containing(granularity, start - datetime.timedelta(days=1)).start
        if start > end:
            raise serializers.ValidationError({"start": "The start must not be after the end."})
        attrs.update(start=start, end=end)
        return attrs


class KpiViewSet(viewsets.ViewSet):
    """Every KPI of KPIS.md, read from the snapshots (never computed on request)."""

    permission_classes = [CanReadKpis]
    lookup_field = "key"
    lookup_value_regex = "[^/]+"  # any key reaches `retrieve`, whose 404 for an unknown one is JSON

    @extend_schema(
        parameters=[OpenApiParameter("granularity", OpenApiTypes.STR, enum=list(GRANULARITIES))],
        responses=KpiOverviewSerializer(many=True),
    )
    def list(self, request):
        granularity = request.query_params.get("granularity", "month")
        if granularity not in GRANULARITIES:
            raise serializers.ValidationError({"granularity": [f"Choose one of {', '.join(GRANULARITIES)}."]})
        items = []
        for row in kpi_overview(granularity=granularity):
            kpi = row["kpi"]
            items.append(
                {
                    **_definition(kpi),
                    "granularity": granularity,
                    "period_start": row["period_start"],
                    "period_end": row["period_end"],
                    "period_under_way": row["period_start"] <= local_today() < row["period_end"],
                    "accumulates": kpi.accumulates,
                    "value": _rounded(row["value"]),
                    "previous_value": _rounded(row["previous_value"]),
                    "change": _rounded(row["change"]),
                    "sample_size": row["sample_size"],
                    "computed_at": row["computed_at"],
                }
            )
        return Response(KpiOverviewSerializer(items, many=True).data)

    @extend_schema(
        parameters=[SeriesQuerySerializer],
        responses=inline_serializer(
            "KpiSeries",
            {
                "key": serializers.CharField(),
                "name": serializers.CharField(),
                "unit": serializers.CharField(),
                "granularity": serializers.CharField(),
                "segment": serializers.CharField(),
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": KpiPointSerializer(many=True),
            },
        ),
    )
    def retrieve(self, request, key=None):
        kpi = registry().get(key)
        if kpi is None:
            raise Http404(f"No KPI {key!r}.")
        query = SeriesQuerySerializer(data=request.query_params, context={"kpi": kpi})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        try:
            points = kpi_series(
                kpi=kpi,
                granularity=params["granularity"],
                start=params["start"],
                end=params["end"],
                dimension=params["segment"],
            )
        except ValueError as error:
            raise serializers.ValidationError({"end": [str(error)]}) from error
        results = [_point(point, kpi.key) for point in points]
        return Response(
            {
                "key": kpi.key,
                "name": kpi.name,
                "unit": kpi.unit,
                "granularity": params["granularity"],
                "segment": params["segment"],
                "count": len(results),
                "next": None,
                "previous": None,
                "results": results,
            }
        )


def _definition(kpi) -> dict:
    return {
        "key": kpi.key,
        "name": kpi.name,
        "area": kpi.area,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "formula": kpi.formula,
        "note": kpi.note,
        "dimensions": list(kpi.dimensions),
    }


INTERVAL_KPIS = {"nps", "csat"}


def _details(details: dict | None) -> dict:
    """A snapshot's details, its amounts and ratios as JSON numbers (they are kept as text, with every digit)."""
    return {name: _detail_number(value) for name, value in (details or {}).items()}


def _detail_number(value):
    if not isinstance(value, str):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    return float(number) if number.is_finite() else value


def _point(point: dict, key: str) -> dict:
    item = {
        "period_start": point["period_start"].isoformat(),
        "period_end": point["period_end"].isoformat(),
        "segment": point["segment"],
        "value": _rounded(point["value"]),
        "numerator": _number(point["numerator"]),
        "denominator": _number(point["denominator"]),
        "sample_size": point["sample_size"],
        "details": _details(point["details"]),
        "computed_at": point["computed_at"].isoformat() if point["computed_at"] else None,
    }
    if key in INTERVAL_KPIS:
        item["ci_low"] = _rounded(point["ci_low"])
        item["ci_high"] = _rounded(point["ci_high"])
    return item
