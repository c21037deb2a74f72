"""The KPI pages' period and segment picker, and the target form."""

import datetime
from dataclasses import dataclass

from django import forms

from crm_project.forms import StyledFormMixin
from crm_project.validators import plausible_date
from kpis.definitions.base import registry
from kpis.models import GRANULARITY_CHOICES, KpiTarget
from kpis.periods import Period, history_floor, local_today, period_containing
from kpis.presentation import DIMENSION_LABELS
from kpis.sql import ALL

PERIOD_CHOICES = [("this", "This period"), ("last", "Last period"), ("chosen", "Period containing…")]


def dimension_choices() -> list[tuple[str, str]]:
    """Whole business, then every dimension some KPI has, in the order of DIMENSION_LABELS."""
    used = {dimension for kpi in registry().values() for dimension in kpi.dimensions}
    return [(key, label) for key, label in DIMENSION_LABELS.items() if key == ALL or key in used]


@dataclass(frozen=True)
class Selection:
    """What the pages show: one period of one granularity, for the whole business or one segment."""

    period: Period
    choice: str = "this"
    dimension: str = ALL
    segment: str = ALL

    @property
    def granularity(self) -> str:
        return self.period.granularity

    @property
    def segmented(self) -> bool:
        return self.dimension != ALL and self.segment != ALL

    def query(self, **overrides) -> dict[str, str]:
        """The query string that selects the same again (for links between the pages)."""
        params = {"granularity": self.granularity, "period": self.choice}
        if self.choice == "chosen":
            params["on"] = self.period.start.isoformat()
        if self.dimension != ALL:
            params["dimension"] = self.dimension
        if self.segmented:
            params["segment"] = self.segment
        params.update(overrides)
        return {key: value for key, value in params.items() if value not in (None, "")}


class KpiFilterForm(StyledFormMixin, forms.Form):
    granularity = forms.ChoiceField(choices=GRANULARITY_CHOICES, required=False, label="Periods of a")
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, label="Show")
    on = forms.DateField(required=False, label="Day in the period", widget=forms.DateInput(attrs={"type": "date"}))
    dimension = forms.ChoiceField(required=False, label="Segment by")
    # Free text shown as a list of the labels seen in the snapshots (one from another granularity is kept).
    segment = forms.CharField(required=False, label="Segment", widget=forms.Select)

    def __init__(self, *args, segments: list[tuple[str, str]] | None = None, **kwargs):
        """`segments`: (label, what to show) of the segments seen (`kpi_segments`)."""
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = dimension_choices()
        segments = list(segments or [])
        asked = (self.data or {}).get("segment")
        if asked and asked != ALL and asked not in {label for label, _ in segments}:
            segments.append((asked, asked))
        self.fields["segment"].widget.choices = [(ALL, "All segments"), *segments]

    def clean_on(self):
        return day_with_numbers(self.cleaned_data.get("on"))

    def clean(self):
        data = super().clean()
        if data.get("period") == "chosen" and not data.get("on") and "on" not in self.errors:
            self.add_error("on", "Choose a day in the period to show.")
        return data

    def selection(self, today: datetime.date | None = None) -> Selection:
        """The selection the input asks for; a part that is invalid or missing falls back (this period, whole
        business) and the others stay as asked; the picker shows why."""
        if self.is_bound:
            self.is_valid()  # cleaned_data then holds the parts that are valid
        data = getattr(self, "cleaned_data", {})
        granularity = data.get("granularity") or "month"
        choice = data.get("period") or "this"
        current = period_containing(granularity, today or local_today())
        if choice == "last":
            period = current.previous()
        elif choice == "chosen" and data.get("on"):
            period = period_containing(granularity, data["on"])
        else:
            period = current
        dimension = data.get("dimension") or ALL
        segment = (data.get("segment") or ALL).strip() if dimension != ALL else ALL
        return Selection(period=period, choice=choice, dimension=dimension, segment=segment or ALL)


def day_with_numbers(day: datetime.date | None) -> datetime.date | None:
    """A day the KPIs have numbers for: up to today, and from the history's floor."""
    if day is None:
        return day
    if day > local_today():
        raise forms.ValidationError("Choose a day up to today: a later period has no numbers yet.")
    floor = history_floor()
    if day < floor:
        raise forms.ValidationError(f"Choose a day from {floor.day} {floor:%B %Y}: KPIs are computed since then.")
    return day


class DigestForm(forms.Form):
    on = forms.DateField(required=False, label="As sent on", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_on(self):
        return day_with_numbers(self.cleaned_data.get("on"))


def raw_dimension(data) -> str:
    """The dimension asked for, before validation (the segment choices depend on it)."""
    dimension = (data or {}).get("dimension") or ALL
    return dimension if dimension in dict(dimension_choices()) else ALL


# What a target may be, by KPI key or unit: shares of a whole from 0 to 100 %, NPS from -100 to 100, a return on
# spend from -100 % (all of it lost) up; anything else (money, counts, hours, ratios) 0 or more.
TARGET_RANGES = {
    "percent": (0, 100),
    "score": (-100, 100),
    "campaign_roi": (-100, None),
}


class KpiTargetForm(StyledFormMixin, forms.Form):
    """A target's input; kpi_target_set writes it (replacing the target of the same KPI and period)."""

    kpi = forms.ChoiceField(label="KPI")
    granularity = forms.ChoiceField(choices=GRANULARITY_CHOICES, initial="month", label="Periods of a")
    standing = forms.BooleanField(
        required=False, label="Standing target (every period of this granularity)", initial=True
    )
    period_start = forms.DateField(
        required=False,
        label="Day in the period",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For a target of one period only: any day in it.",
        validators=[plausible_date],
    )
    value = forms.DecimalField(max_digits=20, decimal_places=2, label="Target value")
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, instance: KpiTarget | None = None, **kwargs):
        self.instance = instance
        if instance is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "kpi": instance.kpi,
                "granularity": instance.granularity,
                "standing": instance.period_start is None,
                "period_start": instance.period_start,
                "value": instance.value,
                "note": instance.note,
            }
        super().__init__(*args, **kwargs)
        self.fields["kpi"].choices = [(kpi.key, kpi.name) for kpi in registry().values()]

    def clean(self):
        data = super().clean()
        kpi = registry().get(data.get("kpi"))
        if kpi is not None and data.get("value") is not None:
            low, high = TARGET_RANGES.get(kpi.key, TARGET_RANGES.get(kpi.unit, (0, None)))
            if data["value"] < low or (high is not None and data["value"] > high):
                within = f"from {low} to {high}" if high is not None else f"{low} or more"
                self.add_error("value", f"A target of {kpi.name} is {within}.")
        if data.get("standing") and data.get("period_start"):
            self.add_error(
                "period_start",
                "A standing target is for every period: clear the day, or untick Standing for that period only.",
            )
        elif data.get("standing"):
            data["period_start"] = None
        elif not data.get("period_start"):
            self.add_error("period_start", "Choose a day in the period, or make the target standing.")
        elif data.get("granularity"):
            data["period_start"] = period_containing(data["granularity"], data["period_start"]).start
        return data
