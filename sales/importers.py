"""The CSV import of campaigns, spend, leads, deals, orders and subscriptions (see docs/import-format.md).

Registered with `contacts.registry.register_importer` in SalesConfig.ready(). Imported history keeps its
times as given: no workflow service runs (winning an imported deal does not touch its contact's
`customer_since`), no event is written but the one stage change that opens an imported deal's history.
"""

from dataclasses import dataclass, field

from contacts.importers import (
    channel_column,
    check_order,
    check_unique,
    contact_column,
    external_id_column,
    owner_column,
)
from contacts.importing import Choice, Column, Date, DateTime, Email, ExternalIdRef, ImportSpec, Money, Text, insert
from contacts.models import Company
from crm_project.exports import made_here_ref

from .defaults import DEFAULT_STAGES
from .models import Campaign, Deal, DealStageChange, Lead, Order, Pipeline, Spend, Stage, Subscription


def campaign_column() -> Column:
    return Column("campaign", ExternalIdRef(Campaign, "campaigns"), field="campaign_id")


class CampaignImporter(ImportSpec):
    kind = "campaigns"
    model = Campaign
    description = "Marketing campaigns. Spend and leads refer to them by external_id."
    columns = (
        external_id_column(),
        Column("name", Text(200), required=True, field="name", help="unique, case-insensitive"),
        channel_column(),
        Column("starts_on", Date(), field="starts_on"),
        Column("ends_on", Date(), field="ends_on"),
    )
    rules = ("ends_on is not before starts_on", "a campaign name belongs to one campaign")
    relabels = ("name", "channel_id")  # its leads and spend of any date, by campaign and channel

    def check_row(self, row, run) -> None:
        check_order(run, row, "starts_on", "ends_on")

    def check_batch(self, rows, run) -> None:
        check_unique(run, rows, "name", Campaign, "campaign")


class SpendImporter(ImportSpec):
    kind = "spend"
    model = Spend
    description = "Money spent on marketing and sales: acquisition spend feeds CAC, retention spend CRC."
    columns = (
        external_id_column(),
        Column("spent_on", Date(), required=True, field="spent_on"),
        Column("amount", Money(), required=True, field="amount"),
        Column("category", Choice(Spend.Category), required=True, field="category"),
        channel_column(),
        campaign_column(),
    )


class LeadImporter(ImportSpec):
    kind = "leads"
    model = Lead
    description = "Leads, open or closed; a converted lead names the contact it became."
    columns = (
        external_id_column(),
        Column("first_name", Text(100), field="first_name"),
        Column("last_name", Text(100), field="last_name"),
        Column("email", Email(), field="email"),
        Column("company_name", Text(200), field="company_name"),
        channel_column(),
        campaign_column(),
        owner_column(),
        Column("status", Choice(Lead.Status), required=True, field="status"),
        Column("created_at", DateTime(), required=True, field="created_at"),
        Column("converted_at", DateTime(), field="converted_at"),
        contact_column(),
    )
    rules = (
        "a lead has a first name, a last name, an e-mail or a company name",
        "status `converted` needs converted_at; another status has none",
        "converted_at is not before created_at",
    )

    def check_row(self, row, run) -> None:
        if all(row.absent(name) for name in ("first_name", "last_name", "email", "company_name")):
            run.error(row, "first_name", "give the lead a name, an e-mail or a company name")
        if row["status"] == Lead.Status.CONVERTED and row.absent("converted_at"):
            run.error(row, "converted_at", "a converted lead needs converted_at")
        elif row.given("status", "converted_at") and row["status"] != Lead.Status.CONVERTED:
            run.error(row, "converted_at", f"only a converted lead has converted_at; this one is {row['status']}")
        check_order(run, row, "created_at", "converted_at")


# Deals ------------------------------------------------------------------------------------------------------------


@dataclass
class _Stage:
    id: int | None  # None: to be created (or, in a dry run, would be)
    name: str
    kind: str
    position: int
    probability: int


@dataclass
class _Pipeline:
    id: int | None
    name: str
    stages: dict[str, _Stage] = field(default_factory=dict)  # lower-cased name -> stage

    def of_kind(self, kind: str) -> _Stage | None:
        candidates = [stage for stage in self.stages.values() if stage.kind == kind]
        return min(candidates, key=lambda stage: stage.position) if candidates else None


class _Pipelines:
    """The pipelines and their stages, read once per import; those a file names are created when missing."""

    def __init__(self, run):
        self.run = run
        self.noted: set[str] = set()  # new pipelines noted already
        self.by_name: dict[str, _Pipeline] = {}
        self.default: _Pipeline | None = None
        pipelines = {}
        for pipeline in Pipeline.objects.order_by("-is_default", "name"):
            pipelines[pipeline.pk] = self.by_name[pipeline.name.lower()] = _Pipeline(pipeline.pk, pipeline.name)
            self.default = self.default or pipelines[pipeline.pk]
        for stage in Stage.objects.order_by("pipeline_id", "position"):
            pipelines[stage.pipeline_id].stages[stage.name.lower()] = _Stage(
                stage.pk, stage.name, stage.kind, stage.position, stage.probability
            )

    def pipeline(self, name: str) -> _Pipeline | None:
        """The pipeline of that name; one that does not exist yet is made up (and created by `keep`)."""
        if not name:
            return self.default
        pipeline = self.by_name.get(name.lower())
        if pipeline is None:
            pipeline = self.by_name[name.lower()] = _Pipeline(None, name)
            for position, (stage_name, probability, kind) in enumerate(DEFAULT_STAGES, start=1):
                pipeline.stages[stage_name.lower()] = _Stage(None, stage_name, kind, position, probability)
        return pipeline

    def stage(self, pipeline: _Pipeline, name: str) -> _Stage:
        """The stage of that name; one that does not exist yet is made up as an open stage (created by `keep`)."""
        stage = pipeline.stages.get(name.lower())
        if stage is None:
            last = max(pipeline.stages.values(), key=lambda stage: stage.position, default=None)
            open_stages = [stage for stage in pipeline.stages.values() if stage.kind == Stage.Kind.OPEN]
            probability = max(open_stages, key=lambda stage: stage.position).probability if open_stages else 0
            stage = _Stage(None, name, Stage.Kind.OPEN, (last.position if last else 0) + 1, probability)
        return stage

    def keep(self, pipeline: _Pipeline, stage: _Stage) -> None:
        """A good row's pipeline and stage: what is new of them is noted, and created when rows are written.
        Those only bad rows named are neither (a skipped row leaves nothing behind)."""
        if pipeline.id is None and pipeline.name.lower() not in self.noted:
            self.noted.add(pipeline.name.lower())
            self.run.note(f"new pipeline: {pipeline.name} (with the default stages)")
        if stage.name.lower() not in pipeline.stages:
            pipeline.stages[stage.name.lower()] = stage
            self.run.note(f"new stage in {pipeline.name}: {stage.name} (an open stage, after the others)")
        self._save(pipeline)

    def _save(self, pipeline: _Pipeline) -> None:
        """Create what is new of the pipeline, once, when rows are being written."""
        if not self.run.writing:
            return
        if pipeline.id is None:
            pipeline.id = Pipeline.objects.create(name=pipeline.name).pk
        missing = [stage for stage in pipeline.stages.values() if stage.id is None]
        if missing:
            Stage.objects.bulk_create(
                Stage(pipeline_id=pipeline.id, name=s.name, kind=s.kind, position=s.position, probability=s.probability)
                for s in missing
            )
            ids = dict(Stage.objects.filter(pipeline_id=pipeline.id).values_list("name", "id"))
            for stage in missing:
                stage.id = ids[stage.name]


class DealImporter(ImportSpec):
    kind = "deals"
    model = Deal
    also_writes = (DealStageChange,)
    description = (
        "Deals, open, won or lost, in a pipeline's stage. Closing an imported deal runs no workflow: a won "
        "deal does not change its contact's customer_since (import that with the contact)."
    )
    columns = (
        external_id_column(),
        Column("title", Text(200), required=True, field="title"),
        contact_column(),
        Column("company", ExternalIdRef(Company, "companies"), field="company_id"),
        owner_column(),
        channel_column(),
        Column("kind", Choice(Deal.Kind), required=True, field="kind"),
        Column("amount", Money(), required=True, field="amount"),
        Column("pipeline", Text(100), help="pipeline name; empty: the default pipeline; created when missing"),
        Column("stage", Text(100), help="stage name in the pipeline; empty: see the rules; created when missing"),
        Column("status", Choice(Deal.Status), required=True, field="status"),
        Column("created_at", DateTime(), required=True, field="created_at"),
        Column("closed_at", DateTime(), field="closed_at"),
        Column("lost_reason", Text(300), field="lost_reason"),
        Column("lead", ExternalIdRef(Lead, "leads"), field="lead_id"),
    )
    derived_fields = ("pipeline_id", "stage_id", "stage_changed_at")
    history_fields = ("created_at", "closed_at")
    rules = (
        "a won or lost deal needs closed_at; an open deal has none",
        "closed_at is not before created_at",
        "the stage's kind matches the status: a won deal is in the pipeline's won stage, a lost one in its "
        "lost stage, an open one in an open stage",
        "no stage given: won and lost deals go to the won or lost stage, open deals to the first open stage",
        "a stage that does not exist is created as an open stage, at the end of the pipeline",
    )

    def check_row(self, row, run) -> None:
        status = row["status"]
        if status in (Deal.Status.WON, Deal.Status.LOST) and row.absent("closed_at"):
            run.error(row, "closed_at", f"a {status} deal needs closed_at")
        elif status == Deal.Status.OPEN and row.given("closed_at"):
            run.error(row, "closed_at", "an open deal has no closed_at")
        check_order(run, row, "created_at", "closed_at")

    def check_batch(self, rows, run) -> None:
        pipelines = run.cache.get("pipelines")
        if pipelines is None:
            pipelines = run.cache["pipelines"] = _Pipelines(run)
        for row in rows:
            if not row.ok or not row["status"]:
                continue  # the stage is only looked up (and maybe created) for rows that may go in
            pipeline = pipelines.pipeline(row["pipeline"])
            if pipeline is None:
                run.error(row, "pipeline", "there is no pipeline yet: name one")
                continue
            status = row["status"]
            stage = pipelines.stage(pipeline, row["stage"]) if row["stage"] else pipeline.of_kind(status)
            if stage is None:
                run.error(row, "stage", f"the pipeline {pipeline.name} has no {status} stage")
            elif stage.kind != status:
                run.error(row, "stage", f"{stage.name} is a {stage.kind} stage, but the deal is {status}")
            else:
                pipelines.keep(pipeline, stage)
                row.targets["pipeline"] = (pipeline,)
                row.targets["stage"] = (stage,)

    def derive(self, row, record, run) -> None:
        record["pipeline_id"] = row.targets["pipeline"][0].id
        record["stage_id"] = row.targets["stage"][0].id
        record["stage_changed_at"] = row["closed_at"] or row["created_at"]

    def carry_over(self, record, old) -> None:
        # The file has no time of the last stage change: a deal still in its stage keeps the one it has.
        if old["stage_id"] == record["stage_id"] and old["stage_changed_at"] is not None:
            record["stage_changed_at"] = old["stage_changed_at"]

    def after_write(self, rows, ids, run) -> None:
        # A new deal's history starts with the stage it was imported in.
        insert(
            DealStageChange,
            [
                {
                    "deal_id": ids[row["external_id"]],
                    "from_stage_id": None,
                    "to_stage_id": row.targets["stage"][0].id,
                    "changed_at": row["closed_at"] or row["created_at"],
                    "changed_by_id": None,
                }
                for row in rows
                if row["external_id"] in run.batch_created
            ],
            run.now,
        )


class OrderImporter(ImportSpec):
    kind = "orders"
    model = Order
    description = "Orders: the revenue. An order may name the won deal it came from."
    columns = (
        external_id_column(),
        contact_column(required=True),
        Column("deal", ExternalIdRef(Deal, "deals", fields=("contact_id", "status")), field="deal_id"),
        Column("ordered_at", DateTime(), required=True, field="ordered_at"),
        Column("amount", Money(), required=True, field="amount"),
    )
    rules = ("the deal, when given, is won and is the same contact's",)

    def check_batch(self, rows, run) -> None:
        for row in rows:
            deal = row.targets.get("deal")
            if deal is None:
                continue
            _, deal_contact, status = deal
            if status != Deal.Status.WON:
                run.error(row, "deal", f"an order comes from a won deal; deal {row.keys['deal']!r} is {status}")
            elif deal_contact is not None and row.given("contact") and deal_contact != row["contact"]:
                run.error(row, "deal", f"deal {row.keys['deal']!r} belongs to another contact")


class SubscriptionImporter(ImportSpec):
    kind = "subscriptions"
    model = Subscription
    description = (
        "Subscriptions with their outcome. A renewal names the subscription it renews, which is imported "
        "before it (earlier in the same file, or in an earlier import)."
    )
    columns = (
        external_id_column(),
        contact_column(required=True),
        Column("plan", Text(100), required=True, field="plan"),
        Column("amount", Money(), required=True, field="amount"),
        Column("starts_on", Date(), required=True, field="starts_on"),
        Column("ends_on", Date(), required=True, field="ends_on"),
        Column("outcome", Choice(Subscription.Outcome), required=True, field="outcome"),
        Column("renews", ExternalIdRef(Subscription, "subscriptions", fields=("contact_id",)), field="renews_id"),
    )
    rules = (
        "ends_on is after starts_on",
        "renews names a subscription of the same contact, above in the file or imported before",
        "a subscription is renewed by one subscription at most",
    )

    def check_row(self, row, run) -> None:
        check_order(run, row, "starts_on", "ends_on", strictly=True)

    def check_batch(self, rows, run) -> None:
        for row in rows:
            renewed = row.targets.get("renews")
            if renewed is not None and row.given("contact") and renewed[1] != row["contact"]:
                run.error(row, "renews", f"subscription {row.keys['renews']!r} belongs to another contact")
        lines = run.memo.setdefault("renewed", {})
        for row in rows:
            key = row.keys.get("renews")
            if key is None or "renews" in row.bad_columns:
                continue
            if key in lines:
                run.error(row, "renews", f"subscription {key!r} is renewed on line {lines[key]} already")
            else:
                lines[key] = row.line
        renewed_ids = {row["renews"]: row for row in rows if row.ok and row["renews"]}
        if renewed_ids:
            renewals = Subscription.objects.filter(renews_id__any_of=renewed_ids)
            for renewed_id, external_id, pk in renewals.values_list("renews_id", "external_id", "id"):
                row = renewed_ids[renewed_id]
                made_here = not external_id and row["external_id"] == made_here_ref(Subscription, pk)
                if external_id != row["external_id"] and not made_here:
                    holder = f"{external_id!r}" if external_id else "one without external_id"
                    run.error(row, "renews", f"subscription {row.keys['renews']!r} is renewed by {holder} already")
