"""Reads shared by the sales pages and API: related rows joined, totals aggregated in SQL."""

from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth

from .models import Campaign, Deal, DealStageChange, Lead, Order, Pipeline, SalesEvent, Spend, Stage, Subscription

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


def lead_list() -> QuerySet[Lead]:
    return Lead.objects.select_related("channel", "campaign", "owner", "contact")


def deal_list() -> QuerySet[Deal]:
    return Deal.objects.select_related("contact", "company", "owner", "channel", "stage", "pipeline")


def order_list() -> QuerySet[Order]:
    return Order.objects.select_related("contact", "deal", "created_by")


def subscription_list() -> QuerySet[Subscription]:
    return Subscription.objects.select_related("contact", "renews")


def campaign_list() -> QuerySet[Campaign]:
    # Spend is summed in a subquery: joined with leads too, each spend row would count once per lead.
    spend = Spend.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign").annotate(s=Sum("amount"))
    return Campaign.objects.select_related("channel").annotate(
        total_spend=Coalesce(Subquery(spend.values("s"), output_field=MONEY), ZERO),
        lead_count=Count("leads", distinct=True),
    )


def spend_list() -> QuerySet[Spend]:
    return Spend.objects.select_related("channel", "campaign")


def money_total(queryset) -> Decimal:
    """Sum of `amount` over a filtered list, in one query."""
    return _cents(queryset.order_by().aggregate(total=Coalesce(Sum("amount"), ZERO))["total"])


def deal_totals(queryset) -> dict:
    """Count, total and probability-weighted total of a filtered deal list, in one query."""
    # amount x probability summed, divided by 100 here: SQLite keeps a whole amount as an integer and would
    # divide each deal's product by 100 as integers (830.00 at 25 % gave 207, not 207.50).
    weighted = ExpressionWrapper(F("amount") * F("stage__probability"), output_field=MONEY)
    totals = queryset.order_by().aggregate(
        count=Count("pk"), total=Coalesce(Sum("amount"), ZERO), weighted=Coalesce(Sum(weighted), ZERO)
    )
    # SQLite hands back unrounded decimals; money has two places everywhere.
    return {**totals, "total": _cents(totals["total"]), "weighted": _cents(Decimal(totals["weighted"]) / 100)}


def _cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def spend_monthly_totals(queryset) -> list[dict]:
    """Spend per month, channel and category, newest month first (one grouped query)."""
    return list(
        queryset.order_by()
        .annotate(month=TruncMonth("spent_on"))
        .values("month", "channel__name", "category")
        .annotate(total=Sum("amount"))
        .order_by("-month", "channel__name", "category")
    )


def pipeline_board(*, pipeline: Pipeline, deals: QuerySet[Deal], cards_per_stage: int = 50) -> list[dict]:
    """The board: each open stage with its biggest deals and its count, total and weighted total.

    Three queries whatever the number of deals: stages, totals grouped by stage, and the
    cards (the `cards_per_stage` largest deals of each stage, picked by a window function).
    """
    stages = list(pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position"))
    open_deals = deals.filter(pipeline=pipeline, status=Deal.Status.OPEN)
    totals = {
        row["stage"]: row
        for row in open_deals.order_by().values("stage").annotate(count=Count("pk"), total=Sum("amount"))
    }
    ranked = open_deals.annotate(
        rank=Window(RowNumber(), partition_by=[F("stage")], order_by=[F("amount").desc(), F("pk").asc()])
    ).filter(rank__lte=cards_per_stage)
    cards: dict[int, list[Deal]] = {stage.pk: [] for stage in stages}
    for deal in ranked.order_by("stage", "rank"):
        cards.setdefault(deal.stage_id, []).append(deal)
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        total = row.get("total") or Decimal("0.00")
        columns.append(
            {
                "stage": stage,
                "deals": cards.get(stage.pk, []),
                "count": row.get("count", 0),
                "total": total,
                "weighted": (total * stage.probability / 100).quantize(Decimal("0.01")),
            }
        )
    return columns


def deal_stage_history(deal: Deal) -> QuerySet[DealStageChange]:
    return deal.stage_changes.select_related("from_stage", "to_stage", "changed_by")


def lead_history(lead: Lead) -> QuerySet[SalesEvent]:
    return lead.events.select_related("actor")
