from django import forms


class StyledFormMixin:
    """Give every widget Bootstrap's classes, so templates render fields in one loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class StyledForm(StyledFormMixin, forms.Form):
    """The base form of FilterSets' forms."""
