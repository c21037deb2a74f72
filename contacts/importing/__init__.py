"""The CSV import: a small generic engine (`engine`), typed column parsers (`columns`), bulk writes (`writer`).

Each app declares an `ImportSpec` per kind of record it owns in its `importers.py` and registers it with
`contacts.registry.register_importer` from its AppConfig.ready(). docs/import-format.md describes the files.
"""

from . import lookups  # noqa: F401 (registers the `any_of` lookup)
from .columns import (
    Boolean,
    ByName,
    CellError,
    Choice,
    Date,
    DateTime,
    Email,
    ExternalIdRef,
    Integer,
    Money,
    Text,
    UserByEmail,
)
from .engine import Column, ImportResult, ImportRun, ImportSpec, Problem, Row, records_import
from .writer import Upserter, insert

__all__ = [
    "Boolean",
    "ByName",
    "CellError",
    "Choice",
    "Column",
    "Date",
    "DateTime",
    "Email",
    "ExternalIdRef",
    "ImportResult",
    "ImportRun",
    "ImportSpec",
    "Integer",
    "Money",
    "Problem",
    "Row",
    "Text",
    "Upserter",
    "UserByEmail",
    "insert",
    "records_import",
]
