from django import forms
from django.conf import settings
from django.db.models import Q

from crm_project.forms import StyledFormMixin
from crm_project.templatetags.crm import display_name

from .models import Company, Contact, Interaction, normalize_email


def _people_as_owners(form) -> None:
    """The owner is chosen among the active staff (a record keeps one who has left), listed by name as the pages
    show them, not by username."""
    current = form.instance.owner_id if form.instance.pk else None
    form.fields["owner"].queryset = (
        form.fields["owner"].queryset.filter(Q(is_active=True) | Q(pk=current)).order_by("username")
    )
    form.fields["owner"].label_from_instance = display_name


class CompanyForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "domain", "industry", "size_band", "region", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _people_as_owners(self)


class ContactForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "region",
            "industry",
            "channel",
            "owner",
            "email_opt_out",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.order_by("name")
        # Active channels only, but a contact keeps the one it has even after it is retired.
        current = self.instance.channel_id if self.instance.pk else None
        self.fields["channel"].queryset = self.fields["channel"].queryset.filter(Q(is_active=True) | Q(pk=current))
        _people_as_owners(self)

    def clean_email(self):
        return normalize_email(self.cleaned_data.get("email", ""))


class InteractionForm(StyledFormMixin, forms.ModelForm):
    occurred_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for now; in the local time shown below.",
    )

    class Meta:
        model = Interaction
        fields = ["kind", "direction", "occurred_at", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}


class ImportUploadForm(StyledFormMixin, forms.Form):
    """The import page's upload: which kind of records, the CSV file, and whether to skip bad rows."""

    kind = forms.ChoiceField(label="What the file holds")
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma-separated, with a header row.")
    skip_bad_rows = forms.BooleanField(
        required=False, label="Import the good rows even if some rows are bad (they are listed)"
    )

    def __init__(self, *args, **kwargs):
        from . import registry

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, kind.replace("_", " ")) for kind in registry.importers()]

    def clean_file(self) -> bytes:
        """The file's bytes, once they are known to be text in UTF-8 and not too large."""
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is {upload.size / 1024 / 1024:,.1f} MB; the import page takes up to "
                f"{settings.IMPORT_MAX_UPLOAD_MB} MB (use `manage.py import_records` for larger files)."
            )
        content = b"".join(upload.chunks())
        for signatures, what in BINARY_SIGNATURES:
            if content.startswith(signatures):
                raise forms.ValidationError(
                    f"This is {what}, not a CSV text file: save it as “CSV UTF-8” and upload that."
                )
        nul = content.find(b"\0")  # anywhere in the file: PostgreSQL text cannot hold it
        if nul != -1:
            line = content[:nul].count(b"\n") + 1
            raise forms.ValidationError(
                f"This is not a CSV text file: it holds binary data (line {line}). Save it as “CSV UTF-8” and "
                "upload that."
            )
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as error:
            line = content[: error.start].count(b"\n") + 1
            raise forms.ValidationError(
                f"This file is not UTF-8 text (line {line}): save it as “CSV UTF-8” and upload that."
            ) from None
        if not content.strip():
            raise forms.ValidationError("This file is empty.")
        return content


# What a file that is not CSV text starts with, and what to call it in the message.
BINARY_SIGNATURES = [
    ((b"PK\x03\x04", b"PK\x05\x06"), "a spreadsheet or another zipped file (.xlsx, .ods, .zip)"),
    ((b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",), "an old Excel spreadsheet (.xls)"),
    ((b"%PDF-",), "a PDF document"),
    ((b"\x1f\x8b",), "a gzip-compressed file"),
    ((b"\x89PNG", b"\xff\xd8\xff", b"GIF8"), "an image"),
    ((b"\xff\xfe", b"\xfe\xff"), "UTF-16 text (Excel’s “Unicode text”)"),
]
