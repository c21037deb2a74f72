"""The CSV import engine: read a file a batch at a time, check every row, write the good ones in bulk.

An `ImportSpec` per kind of record (declared in the app that owns the model, registered with
`contacts.registry.register_importer`) says which columns there are, how each cell is read, which
rules hold across the columns of a row and against the database, and how a row becomes a record.
`records_import` does the rest, the same way for every kind:

- the file is streamed (memory stays flat: two batches of rows at a time, plus the external ids seen);
- every problem is reported with its line number, column and reason;
- the whole file is one transaction: by default a file with any bad row writes nothing; with
  `skip_bad_rows` the good rows go in; a dry run checks everything and writes nothing;
- each batch costs a fixed number of queries, whatever its size: references are resolved with one
  query per column (records of other kinds found once are kept for the next batches), records are
  written with one upsert by external_id (so importing the same file again updates the same records);
- on PostgreSQL the new records of a batch go in by COPY while the next batch is read and parsed (see
  `Upserter.wait`); `bench/import_contacts.py` measures an import of 100,000 contacts;
- after a commit that wrote something, the history listeners hear from which instant history changed, and in
  which tables (`ImportSpec.history_tables`);
- records of audited kinds get their audit trail set-wise, a few statements per batch: an entry per record
  the batch created, by one INSERT ... SELECT run right after the batch's COPY (in its thread), and an entry
  per record it changed, with the fields' old and new values, in one bulk insert (see `audit.recording`);
  the author is whoever `audit.context` names.
"""

import codecs
import contextlib
import csv
import datetime
import gc
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import is_not, itemgetter
from typing import BinaryIO

from django.db import DatabaseError, transaction
from django.db.models import Model
from django.utils import timezone

from audit import recording as audit
from audit.models import AuditEntry
from contacts import registry

from .columns import CellError, ExternalIdRef, Parser, Reference
from .writer import Upserter, insert

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
EXTERNAL_ID = "external_id"


@dataclass(frozen=True)
class Column:
    name: str
    parser: Parser
    required: bool = False
    # The model attribute the value goes to as it is; None when the spec's `derive` uses it instead.
    field: str | None = None
    help: str = ""


@dataclass(frozen=True)
class Problem:
    line: int  # 1 is the header row; 0 when the problem is the file's as a whole
    column: str
    reason: str

    def __str__(self):
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class ImportResult:
    kind: str
    dry_run: bool = False
    skip_bad_rows: bool = False
    rows: int = 0  # data rows read
    created: int = 0  # written, or that a dry run would write
    updated: int = 0  # existing records the file changed (a dry run counts every existing one it names)
    unchanged: int = 0  # existing records the file gives as they are
    bad_rows: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first `max_problems` of them
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. the channels that were (or would be) created
    stopped: bool = False  # the file could not be read to its end (header, encoding): nothing imported
    imported: bool = False  # something was written and committed
    since: datetime.datetime | None = None

    @property
    def exit_code(self) -> int:
        """0 when the import went in (or a dry run found it would), 1 when nothing (would) go in for errors."""
        if self.problem_count == 0:
            return 0
        if self.skip_bad_rows and not self.stopped and (self.created or self.updated or self.unchanged):
            return 0
        return 1

    def summary(self) -> str:
        verb = ("would create", "would update") if self.dry_run or not self.imported else ("created", "updated")
        text = f"{self.kind}: {self.rows:,} rows read, {verb[0]} {self.created:,}, {verb[1]} {self.updated:,}"
        if self.unchanged:
            text += f", {self.unchanged:,} unchanged"
        if self.problem_count:
            text += f", {self.bad_rows:,} bad rows ({self.problem_count:,} problems)"
            if not self.imported and not self.dry_run:
                text += "; nothing imported"
            elif self.skip_bad_rows:
                text += f"; {self.bad_rows:,} skipped"
        return text + "."


class Row:
    """One data row of the file: its parsed values by column name, the records its references name."""

    __slots__ = ("line", "values", "keys", "targets", "deferred", "bad_columns", "ok")

    def __init__(self, line: int):
        self.line = line
        self.values: dict[str, object] = {}  # a reference's value is the id of the record it names, once found
        self.keys: dict[str, str] = {}  # reference column -> the key in the cell (external id, e-mail, name)
        self.targets: dict[str, tuple] = {}  # reference column -> (id, *extra fields) of the record it names
        self.deferred: dict[str, str] = {}  # reference column -> external id of a row earlier in this file
        self.bad_columns: set[str] = set()
        self.ok = True

    def __getitem__(self, name: str):
        return self.values.get(name)

    def given(self, *names: str) -> bool:
        """All these cells hold a value that could be read."""
        values, bad = self.values, self.bad_columns
        for name in names:  # noqa: SIM110 (a loop: called for every row, faster than all() on a generator)
            if values.get(name) is None or name in bad:
                return False
        return True

    def absent(self, name: str) -> bool:
        """The cell is empty (not merely unreadable: that is reported already)."""
        value = self.values.get(name)
        return (value is None or value == "") and name not in self.bad_columns


class ImportSpec:
    """How one kind of CSV file becomes records of one model. Subclasses declare, the engine runs.

    - `columns`: the file's columns, `external_id` first;
    - `derived_fields`: model attributes that `derive` sets from the row (besides the columns' `field`s),
      `insert_only` the ones set on creation only;
    - `history_fields`: the record's times and dates, old and new values of which tell the history
      listeners from when history changed (default: every date and time field written);
    - `compared_extra`: values of related records that make a row "changed" too (see `derive`);
    - `check_row(row, run)`: rules across the columns of one row (no queries);
    - `check_batch(rows, run)`: rules that need the database, a few queries per batch;
    - `derive(row, record, run)`: fill in `derived_fields`;
    - `carry_over(record, old)`: for a record that exists, keep what the file cannot say from its values
      (`old`, by `compared` name): a derived field the file's columns leave as it was (a ticket's close time);
    - `after_write(rows, ids, run)`: write what belongs to the records (a response, a stage change), in bulk,
      for the rows that were new or changed.
    """

    kind: str = ""
    model: type[Model]
    columns: tuple[Column, ...] = ()
    derived_fields: tuple[str, ...] = ()
    insert_only: tuple[str, ...] = ()
    history_fields: tuple[str, ...] | None = None
    # Values of related records that `derive` puts in the record under their lookup (e.g. "response__score"),
    # compared with the database's like the record's own fields.
    compared_extra: tuple[str, ...] = ()
    # Fields that label other records of any date (a contact's region labels its orders): an existing record
    # that the file changes in one of them changes history from its start (`registry.ALL_HISTORY`).
    relabels: tuple[str, ...] = ()
    # Models whose rows `after_write` writes besides `model`'s (a deal's first stage change, a survey's answer):
    # their tables changed too (`history_tables`).
    also_writes: tuple[type[Model], ...] = ()
    description: str = ""
    rules: tuple[str, ...] = ()  # the cross-column rules in words, for the format reference

    def check_row(self, row: Row, run: "ImportRun") -> None:
        pass

    def check_batch(self, rows: list[Row], run: "ImportRun") -> None:
        pass

    def derive(self, row: Row, record: dict, run: "ImportRun") -> None:
        pass

    def carry_over(self, record: dict, old: dict) -> None:
        pass

    def after_write(self, rows: list[Row], ids: dict[str, int], run: "ImportRun") -> None:
        pass

    @property
    def needs_ids(self) -> bool:
        return type(self).after_write is not ImportSpec.after_write

    # What the engine derives from the declarations --------------------------------------------------------

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def write_fields(self) -> tuple[str, ...]:
        return tuple(column.field for column in self.columns if column.field) + self.derived_fields

    def compared(self) -> tuple[str, ...]:
        """What a record's values are compared on to tell a changed record from one given again as it is."""
        fields = (name for name in self.write_fields if name not in self.insert_only and name != EXTERNAL_ID)
        return (*fields, *self.compared_extra)

    def times_written(self) -> tuple[str, ...]:
        if self.history_fields is not None:
            return self.history_fields
        kinds = {"DateTimeField", "DateField"}
        fields = {field.attname: field for field in self.model._meta.concrete_fields}
        return tuple(name for name in self.write_fields if fields[name].get_internal_type() in kinds)

    @property
    def history_tables(self) -> tuple[str, ...]:
        """The tables an import of this kind writes, which the history listeners hear changed."""
        return tuple(model._meta.db_table for model in (self.model, *self.also_writes))

    def self_references(self) -> list[Column]:
        return [
            column
            for column in self.columns
            if isinstance(column.parser, ExternalIdRef) and column.parser.model is self.model
        ]


class ImportRun:
    """The state of one import: options, caches shared by the batches, problems found so far."""

    def __init__(self, spec: ImportSpec, result: ImportResult, max_problems: int | None):
        self.spec = spec
        self.result = result
        self.dry_run = result.dry_run
        self.skip_bad_rows = result.skip_bad_rows
        self.max_problems = max_problems
        self.now = timezone.now()
        self.cache: dict = {}  # resolvers' caches (users, channels by name ...)
        self.memo: dict = {}  # the spec's own state across batches (e.g. e-mails seen in the file)
        self.first_line: dict[str, int] = {}  # external_id -> line where it first appeared
        # external_id of every good row so far -> what references to it need (kinds that refer to their own)
        self.accepted: dict[str, Mapping] = {}
        self.since: datetime.datetime | None = None
        self.batch_created: set[str] = set()  # external ids of the batch's rows that are new records
        self.audited = audit.is_audited(spec.model)
        self._noted: set[str] = set()

    @property
    def writing(self) -> bool:
        """Whether rows go to the database now: never in a dry run, and no more after a problem by default."""
        return not self.dry_run and (self.skip_bad_rows or self.result.problem_count == 0)

    def error(self, row: Row | None, column: str, reason: str) -> None:
        if row is not None:
            if row.ok:
                self.result.bad_rows += 1
            row.ok = False
            row.bad_columns.add(column)
        self.result.problem_count += 1
        if self.max_problems is None or len(self.result.problems) < self.max_problems:
            self.result.problems.append(Problem(row.line if row is not None else 0, column, reason))

    def file_error(self, line: int, column: str, reason: str) -> None:
        """A problem with the file as a whole: the import stops and writes nothing."""
        self.result.stopped = True
        self.result.problem_count += 1
        self.result.problems.append(Problem(line, column, reason))

    def note(self, text: str) -> None:
        if text not in self._noted:
            self._noted.add(text)
            self.result.notes.append(text)

    def touch(self, *instants) -> None:
        """History changed at these times or dates (dates count from their local midnight)."""
        for instant in instants:
            if instant is None:
                continue
            if not isinstance(instant, datetime.datetime):
                instant = datetime.datetime.combine(instant, datetime.time.min, timezone.get_default_timezone())
            if self.since is None or instant < self.since:
                self.since = instant


# Reading ---------------------------------------------------------------------------------------------------------


class FileProblem(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text: UTF-8, a byte-order mark dropped; a line that is not UTF-8 stops the import."""
    return itertools.chain.from_iterable(_text_chunks(stream))  # the CSV reader takes them one by one, in C


def _text_chunks(stream: BinaryIO) -> Iterator[list[str]]:
    """The lines a few hundred at a time (a Python step per line would cost more than the decoding)."""
    before = 0  # lines in the chunks before
    while chunk := stream.readlines(1 << 16):
        if before == 0 and chunk[0].startswith(codecs.BOM_UTF8):
            chunk[0] = chunk[0][len(codecs.BOM_UTF8) :]
        try:
            if b"\0" in b"".join(chunk):
                raise ValueError
            yield [raw.decode("utf-8") for raw in chunk]
        except ValueError:  # UnicodeDecodeError too: find the line, after giving the lines before it
            good = []
            for line, raw in enumerate(chunk, start=before + 1):
                if b"\0" in raw:
                    yield good
                    raise FileProblem(line, "this file holds binary data, not CSV text") from None
                try:
                    good.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    yield good
                    raise FileProblem(
                        line, 'this file is not UTF-8 text: save it as "CSV UTF-8" and try again'
                    ) from None
        before += len(chunk)


def read_csv(stream: BinaryIO) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header row and an iterator of (line number, cells) for the data rows; blank lines skipped."""
    reader = csv.reader(_text_lines(stream), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FileProblem(1, _csv_reason(error)) from None
    if header is None or not any(cell.strip() for cell in header):
        raise FileProblem(1, "the file is empty: the first line must name the columns")

    def rows() -> Iterator[tuple[int, list[str]]]:
        end = reader.line_num
        try:
            for cells in reader:
                start, end = end + 1, reader.line_num  # a quoted cell may span lines: report the first
                if cells and (cells[0].strip() or "".join(cells).strip()):  # the first cell says it, mostly
                    yield start, cells
        except csv.Error as error:  # reported where the unreadable record starts (an unclosed quote runs on)
            raise FileProblem(end + 1, _csv_reason(error)) from None

    return header, rows()


def _csv_reason(error: csv.Error) -> str:
    if "unexpected end of data" in str(error):
        return 'this line cannot be read as CSV: a quoted cell starts here and is never closed (a " is missing)'
    return f"this line cannot be read as CSV ({error})"


# Running ---------------------------------------------------------------------------------------------------------


def records_import(
    *,
    kind: str,
    stream: BinaryIO,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Callable[[int], None] | None = None,
    max_problems: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Import a CSV file of `kind` (see docs/import-format.md); one transaction, nothing half-written.

    By default a file with any problem writes nothing; `skip_bad_rows` writes the good rows; `dry_run`
    checks everything and writes nothing. `progress(rows read so far)` is called after every batch.
    The history listeners are called after the commit, when something was written.
    """
    spec = registry.importers().get(kind)
    if spec is None:
        raise ValueError(f"Unknown kind {kind!r}; choose one of {', '.join(registry.importers())}.")
    result = ImportResult(kind=kind, dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    run = ImportRun(spec, result, max_problems)
    with transaction.atomic():
        try:
            with _cycle_collector_paused():
                _import(spec, run, stream, progress, batch_size)
        except FileProblem as problem:
            run.file_error(problem.line, "", problem.reason)
        except DatabaseError as error:
            # The checks are meant to catch everything the database would refuse; this is the safety net.
            logger.exception("The database refused an import of %s", kind)
            run.file_error(0, "", f"the database refused the import ({str(error).strip().splitlines()[0]})")
        result.problems.sort(key=lambda problem: problem.line)
        went_in = result.created + result.updated + result.unchanged > 0
        if dry_run or not went_in or result.stopped or (result.problem_count and not skip_bad_rows):
            transaction.set_rollback(True)
        else:
            result.imported = True
            if result.created + result.updated:
                result.since = since = run.since
                transaction.on_commit(lambda: _tell_history_listeners(since, spec.history_tables))
    return result


@contextlib.contextmanager
def _cycle_collector_paused():
    """The import makes and drops millions of small objects (rows, their values, dicts), none in a cycle.
    The cycle collector would go through them, and through all of Django's, again and again: a sixth of the
    time of a large import. It runs as usual after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _tell_history_listeners(since: datetime.datetime | None, tables: tuple[str, ...]) -> None:
    if since is None:
        return
    for listener in registry.history_listeners():
        listener(since, tables)


def _import(spec: ImportSpec, run: ImportRun, stream: BinaryIO, progress, batch_size: int) -> None:
    header, rows = read_csv(stream)
    plan = _column_plan(spec, run, header)
    if plan is None:
        return
    upserter = Upserter(spec.model, spec.write_fields, spec.insert_only)
    try:
        while batch := list(itertools.islice(rows, batch_size)):
            # Read and checked while the rows of the batch before may still be going in (see Upserter.wait).
            parsed = [_parse_row(spec, run, plan, line, cells) for line, cells in batch]
            upserter.wait()
            if progress is not None and run.result.rows:
                progress(run.result.rows)
            _import_batch(spec, run, parsed, upserter)
            run.result.rows += len(batch)
    except BaseException:
        upserter.wait(quietly=True)  # the connection is free again for the rollback
        raise
    upserter.wait()
    if progress is not None and run.result.rows:
        progress(run.result.rows)


@dataclass
class _Plan:
    """Where each column of the spec is in the file, ready for the row loop."""

    width: int  # cells per row
    present: list[tuple[int, str, Callable, bool, object]]  # (index, name, parse, required, empty value)
    absent: dict[str, object]  # columns the file does not have -> their empty value


def _column_plan(spec: ImportSpec, run: ImportRun, header: list[str]) -> _Plan | None:
    names = [cell.strip().lower() for cell in header]
    known = {column.name: column for column in spec.columns}
    ok = True
    seen: set[str] = set()
    for name in names:
        if name in seen:
            run.file_error(1, name, "this column appears twice")
            ok = False
        seen.add(name)
        if name not in known:
            run.file_error(1, name or "(empty)", f"unknown column; the columns of {spec.kind} are {', '.join(known)}")
            ok = False
    for column in spec.columns:
        if column.required and column.name not in seen:
            run.file_error(1, column.name, "required column missing")
            ok = False
    if not ok:
        return None
    return _Plan(
        width=len(names),
        present=[
            (names.index(column.name), column.name, column.parser.parse, column.required, column.parser.empty)
            for column in spec.columns
            if column.name in seen
        ],
        absent={column.name: column.parser.empty for column in spec.columns if column.name not in seen},
    )


def _import_batch(spec, run: ImportRun, rows: list[Row], upserter: Upserter) -> None:
    _resolve_references(spec, run, rows, creating=False)
    spec.check_batch(rows, run)
    self_refs = spec.self_references()
    if self_refs:
        columns_by_field = {column.field: column.name for column in spec.columns if column.field}
        for row in rows:  # in file order: a row may refer to a good row above it
            for column in self_refs:
                _check_self_reference(run, row, column)
            if row.ok:
                run.accepted[row[EXTERNAL_ID]] = _remembered(row, self_refs, columns_by_field)
    good = [row for row in rows if row.ok]
    # Channels and the like are created for the rows that go in, not for bad ones.
    _resolve_references(spec, run, good, creating=True)
    if not good:
        return
    compared = spec.compared()
    compared_of = _getter(compared)
    times = spec.times_written()
    history = [(index, name) for index, name in enumerate(compared) if name in times]
    keys = [row.values[EXTERNAL_ID] for row in good]
    existing = upserter.existing(keys, compared)
    run.batch_created = {key for key in keys if key not in existing}
    run.result.created += len(run.batch_created)
    changed: list[tuple[Row, dict]] = []
    fields = [(column.field, column.name) for column in spec.columns if column.field]
    old_times = []  # (old values of the `compared` fields) of the records that change
    relabels = [index for index, name in enumerate(compared) if name in spec.relabels]
    relabeled = False
    for row in good:
        values = row.values
        record = {field: values[name] for field, name in fields}
        spec.derive(row, record, run)
        old = existing.get(record[EXTERNAL_ID])
        if old is not None:
            spec.carry_over(record, dict(zip(compared, old[1:], strict=True)))
            new = compared_of(record)
            if new == old[1:]:
                run.result.unchanged += 1
                continue
            run.result.updated += 1
            old_times.append(old[1:])
            relabeled = relabeled or any(new[index] != old[1 + index] for index in relabels)
        changed.append((row, record))
    if relabeled:
        run.touch(registry.ALL_HISTORY)
    # History changed from the earliest of these times, old and new, of the records that change.
    for index, name in history:
        new_times = map(itemgetter(name), map(itemgetter(1), changed))
        run.touch(
            min(filter(_given, new_times), default=None),
            min(filter(_given, map(itemgetter(index), old_times)), default=None),
        )
    if not run.writing or not changed:
        return
    audit_created = None
    if run.audited:
        _audit_changed(spec, run, changed, existing, compared, compared_of)
        audit_created = _audit_created(spec, run)
    later = self_refs or spec.needs_ids  # what comes after the write needs the rows in
    upserter.upsert([record for _, record in changed], run.now, existing, background=not later, then=audit_created)
    if not later:
        return
    rows = [row for row, _ in changed]
    ids = {key: old[0] for key, old in existing.items()}
    ids.update(upserter.ids(list(run.batch_created)))
    _point_at_rows_above(run, upserter, rows, ids, self_refs)
    spec.after_write(rows, ids, run)


def _audit_changed(spec, run: ImportRun, changed, existing, compared, compared_of) -> None:
    """The audit entries of the batch's records that existed: the old and new value of each field that differs,
    in one bulk insert (the connection is free: `existing` waited for the batch before)."""
    if not existing:  # a batch of new records only
        return
    deferred = {column.name: column.field for column in spec.self_references()}
    updates = []
    for row, record in changed:
        old = existing.get(record[EXTERNAL_ID])
        if old is None:
            continue
        # A reference to a row above in the file is written afterwards: its value is not known here.
        unknown = {deferred[name] for name in row.deferred} if row.deferred else ()
        updates.append(
            (
                old[0],
                {
                    name: (before, after)
                    for name, before, after in zip(compared, old[1:], compared_of(record), strict=True)
                    if before != after and name not in unknown
                },
            )
        )
    if updates:
        insert(AuditEntry, audit.change_rows(spec.model, updates, run.now, note=_audit_note(spec)), run.now)


def _audit_created(spec, run: ImportRun) -> tuple[str, list] | None:
    """The statement that writes an entry per record the batch creates, once they are in (`Upserter.upsert`'s
    `then`: on PostgreSQL, in the thread of their COPY, while the next batch is read)."""
    if not run.batch_created:
        return None
    ids = spec.model._default_manager.filter(external_id__any_of=run.batch_created).exclude(external_id="")
    return audit.created_rows_statement(ids.order_by().values_list("id", flat=True), run.now, note=_audit_note(spec))


def _audit_note(spec) -> str:
    return f"CSV import of {spec.kind}"


def _point_at_rows_above(run: ImportRun, upserter: Upserter, rows: list[Row], ids: dict[str, int], self_refs) -> None:
    """References to rows earlier in the file were written empty; now that those rows are in, set them."""
    deferred = [(row, column) for row in rows for column in self_refs if column.name in row.deferred]
    if not deferred:
        return
    targets = upserter.existing(list({row.deferred[column.name] for row, column in deferred}))
    for attname in {column.field for _, column in deferred}:
        upserter.set_references(
            attname,
            [
                (ids[row[EXTERNAL_ID]], targets[row.deferred[column.name]][0])
                for row, column in deferred
                if column.field == attname
            ],
        )


def _parse_row(spec, run: ImportRun, plan: _Plan, line: int, cells: list[str]) -> Row:
    row = Row(line)
    if len(cells) != plan.width:
        run.error(row, "", f"{len(cells)} values, but the header names {plan.width} columns")
        return row
    row.values = values = plan.absent.copy()
    for index, name, parse, required, empty in plan.present:
        raw = cells[index].strip()
        if raw:
            try:
                values[name] = parse(raw)
            except CellError as error:
                values[name] = None
                run.error(row, name, str(error))
        elif required:
            values[name] = None
            run.error(row, name, "required: this cell is empty")
        else:
            values[name] = empty
    key = values[EXTERNAL_ID]
    if key is not None:
        first = run.first_line.setdefault(key, line)
        if first != line:
            run.error(row, EXTERNAL_ID, f"duplicate external_id {key!r}: already on line {first}")
    spec.check_row(row, run)
    return row


def _resolve_references(spec, run: ImportRun, rows: list[Row], *, creating: bool) -> None:
    """One query per reference column for the whole batch (fewer with the resolvers' caches)."""
    for column in spec.columns:
        parser = column.parser
        if not isinstance(parser, Reference) or parser.creates != creating:
            continue
        name = column.name
        named = [(row, key) for row in rows if (key := row.values.get(name)) and name not in row.bad_columns]
        if not named:
            continue
        found = parser.resolve(dict.fromkeys(key for _, key in named), run)  # each key once, in file order
        self_reference = isinstance(parser, ExternalIdRef) and parser.model is spec.model
        for row, key in named:
            row.keys[name] = key
            target = found.get(key)
            if isinstance(target, tuple):
                row.targets[name] = target
                row.values[name] = target[0]
            elif target is not None:
                run.error(row, name, target)
            elif self_reference:
                row.deferred[name] = key  # maybe a row earlier in this file: checked in file order
                row.values[name] = None
            else:
                run.error(row, name, parser.missing(key))


def _check_self_reference(run: ImportRun, row: Row, column: Column) -> None:
    key = row.deferred.get(column.name)
    if key is None:
        return
    remembered = run.accepted.get(key)
    if remembered is None or key == row[EXTERNAL_ID]:
        del row.deferred[column.name]
        if key == row[EXTERNAL_ID]:
            run.error(row, column.name, "a record cannot refer to itself")
        elif key in run.first_line and run.first_line[key] < row.line:
            run.error(row, column.name, f"refers to line {run.first_line[key]}, which has problems")
        else:
            run.error(row, column.name, column.parser.missing(key) + " (or earlier in this file)")
        return
    row.targets[column.name] = (None, *(remembered[attname] for attname in column.parser.fields))


def _remembered(row: Row, self_refs: list[Column], columns_by_field: dict[str, str]) -> dict:
    """What a later row referring to this one may check: the fields its reference asks for."""
    return {
        attname: row.values.get(columns_by_field.get(attname, attname))
        for column in self_refs
        for attname in column.parser.fields
    }


_given = partial(is_not, None)


def _getter(names: tuple[str, ...]) -> Callable[[dict], tuple]:
    """A function giving the values of these keys of a dict as a tuple (itemgetter, which is fast, gives the
    value itself for one key)."""
    if len(names) == 1:
        name = names[0]
        return lambda record: (record[name],)
    return itemgetter(*names) if names else lambda record: ()
