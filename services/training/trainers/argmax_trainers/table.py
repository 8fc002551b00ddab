"""Reading a dataset version as the dataset service stores it (CSV or JSON Lines), record by
record, and inferring its column types with the service's rules (services/dataset/src/
validation/README.md): integer, float, boolean, timestamp, string; empty CSV fields, JSON null
and absent keys are missing; widening integer+float → float, any other mix → string.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

from .errors import UserError

BATCH_ROWS = 65_536
DELIMITERS = (",", ";", "\t", "|")
MAX_SAFE_INTEGER = 2**53

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)?"
)

# csv's default limit (128 KiB) is below the dataset service's 16 MiB record limit.
csv.field_size_limit(16 * 1024 * 1024)


# The same grammars over many distinct values at once: one regex pass in C over the values
# joined by line feeds, instead of a Python call per value.
_ALL_INTEGERS = re.compile(r"(?:[+-]?\d+\n)*")
_ALL_NUMBERS = re.compile(r"(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\n)*")
_ALL_TIMESTAMPS = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)?\n)*"
)


def classify_texts(values: set[str]) -> str:
    """The widened type of a set of non-empty CSV cells. Under the widening rule a set has the
    type of one grammar that matches all its values (integer + float meet at float), or else
    is string — so no value needs classifying on its own."""
    joined = "\n".join(values) + "\n"
    if joined.count("\n") != len(values):
        return "string"  # a value holding a line feed is text
    if _ALL_INTEGERS.fullmatch(joined):
        big = any(len(v) > 15 and abs(int(v)) > MAX_SAFE_INTEGER for v in values)
        return "float" if big else "integer"
    if _ALL_NUMBERS.fullmatch(joined):
        return "float"
    if _ALL_TIMESTAMPS.fullmatch(joined):
        return "timestamp"
    if len(values) <= 64 and all(v.lower() in ("true", "false") for v in values):
        return "boolean"
    return "string"


def classify_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if abs(value) <= MAX_SAFE_INTEGER else "float"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "timestamp" if value and value[0].isdigit() and _TIMESTAMP.fullmatch(value) else "string"
    return "string"  # nested objects and arrays count as their JSON text


def widen(current: str | None, nxt: str) -> str:
    if current is None or current == nxt:
        return nxt
    if {current, nxt} == {"integer", "float"}:
        return "float"
    return "string"


def json_text(value: Any) -> str | None:
    """A JSON value as the text a string column (a category) holds."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class ColumnInfo:
    name: str
    type: str | None = None  # None: no value at all
    nulls: int = 0


@dataclass
class TableScan:
    """What the first pass learns: the columns, their types, and how many records there are."""

    format: str
    columns: list[ColumnInfo]
    rows: int
    delimiter: str = ","
    index: dict[str, int] = field(default_factory=dict)
    # Several files read as one table (combine_scans): each part's own scan, in order.
    parts: list["TableScan"] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.index = {c.name: i for i, c in enumerate(self.columns)}


def detect_delimiter(header_line: str) -> str:
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best, best_count = ",", 0
    for d in DELIMITERS:
        if counts[d] > best_count:
            best, best_count = d, counts[d]
    return best


def _text(stream: BinaryIO) -> io.TextIOWrapper:
    # utf-8-sig drops a BOM; newline='' lets csv see quoted line breaks as they are.
    return io.TextIOWrapper(io.BufferedReader(stream, 1 << 20), encoding="utf-8-sig", newline="")  # type: ignore[arg-type]


class CsvRecords:
    """Batches of rows (lists of str, '' = missing) aligned with the header."""

    def __init__(self, stream: BinaryIO, delimiter: str | None = None) -> None:
        self.text = _text(stream)
        first = self.text.readline()
        if first == "":
            raise UserError("the dataset file is empty", code="invalid_data")
        self.delimiter = delimiter or detect_delimiter(first)
        self.reader = csv.reader(itertools.chain([first], self.text), delimiter=self.delimiter, strict=True)
        try:
            self.header = next(self.reader)
        except csv.Error as error:
            raise UserError(f"the CSV header cannot be parsed: {error}", code="invalid_data", row=1) from None

    def batches(self, size: int = BATCH_ROWS) -> Iterator[list[list[str]]]:
        width = len(self.header)
        reader = self.reader
        records = (r for r in reader if r)  # csv gives [] for a blank line: skipped, as the service does
        while True:
            try:
                batch = list(itertools.islice(records, size))
            except csv.Error as error:
                raise UserError(
                    f"CSV record near line {reader.line_num} cannot be parsed: {error}",
                    code="invalid_data",
                    row=reader.line_num,
                ) from None
            if not batch:
                return
            for r in batch:
                if len(r) != width:
                    raise UserError(
                        f"a CSV record has {len(r)} fields, the header {width} (near line {reader.line_num})",
                        code="invalid_data",
                        row=reader.line_num,
                    )
            yield batch


class JsonlRecords:
    """Batches of objects, one per non-blank line."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = io.BufferedReader(stream, 1 << 20)  # type: ignore[arg-type]
        self.line = 0

    def batches(self, size: int = BATCH_ROWS) -> Iterator[list[dict]]:
        batch: list[dict] = []
        loads = json.loads
        for raw in self.stream:
            self.line += 1
            if not raw.strip():
                continue
            try:
                obj = loads(raw)
            except ValueError as error:
                raise UserError(f"line {self.line} is not JSON: {error}", code="invalid_data", row=self.line) from None
            if not isinstance(obj, dict):
                raise UserError(f"line {self.line} is not a JSON object", code="invalid_data", row=self.line)
            batch.append(obj)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


def scan_types(stream: BinaryIO, fmt: str, on_progress=None) -> TableScan:
    """The first pass: columns, types and the record count, in batches (bounded memory)."""
    rows = 0
    if fmt == "csv":
        records = CsvRecords(stream)
        columns = [ColumnInfo(name) for name in records.header]
        seen = set()
        for i, name in enumerate(records.header):
            if name == "":
                raise UserError(f"CSV column {i + 1} has no name", code="invalid_data", row=1)
            if name in seen:
                raise UserError(f"CSV column '{name}' appears twice", code="invalid_data", column=name, row=1)
            seen.add(name)
        for batch in records.batches():
            rows += len(batch)
            for col, values in zip(columns, zip(*batch)):
                distinct = set(values)
                if "" in distinct:
                    col.nulls += values.count("")
                    distinct.discard("")
                if col.type == "string" or not distinct:
                    continue
                col.type = widen(col.type, classify_texts(distinct))
            if on_progress:
                on_progress(rows)
        return TableScan("csv", columns, rows, records.delimiter)
    if fmt == "jsonl":
        columns: list[ColumnInfo] = []
        index: dict[str, int] = {}
        for batch in JsonlRecords(stream).batches():
            for obj in batch:
                for key in obj:
                    if key not in index:
                        index[key] = len(columns)
                        c = ColumnInfo(key)
                        c.nulls = rows  # absent in every earlier record
                        columns.append(c)
                for col in columns:
                    v = obj.get(col.name)
                    if v is None:
                        col.nulls += 1
                    elif col.type != "string":
                        col.type = widen(col.type, classify_json(v))  # type: ignore[arg-type]
                rows += 1
            if on_progress:
                on_progress(rows)
        if not columns:
            raise UserError("the dataset has no columns", code="invalid_data")
        return TableScan("jsonl", columns, rows)
    raise UserError(f"unknown dataset format {fmt!r} (csv or jsonl)", parameter="format")


def row_batches(stream: BinaryIO, scan: TableScan) -> Iterator[list[tuple]]:
    """The later passes: batches of COLUMNS (one tuple per column, in scan order), raw values."""
    if scan.format == "csv":
        for batch in CsvRecords(stream, scan.delimiter).batches():
            yield list(zip(*batch))
    else:
        names = [c.name for c in scan.columns]
        for batch in JsonlRecords(stream).batches():
            yield [tuple(obj.get(n) for obj in batch) for n in names]


def combine_scans(scans: list[TableScan]) -> TableScan:
    """Several files of one format as one table, in order (a run's extra dataset versions after
    its own): the columns of all of them by name, in order of first appearance, their types
    widened together; a column a file lacks is missing in that file's records. Record indices
    run on across the files, so each record's split is what it would be in the first file
    alone, followed by the others."""
    if len(scans) == 1:
        return scans[0]
    formats = {s.format for s in scans}
    if len(formats) > 1:
        raise UserError(f"the dataset files are of different formats ({', '.join(sorted(formats))})", parameter="format")
    columns: list[ColumnInfo] = []
    index: dict[str, int] = {}
    before = 0
    for scan in scans:
        present = set()
        for c in scan.columns:
            present.add(c.name)
            if c.name not in index:
                index[c.name] = len(columns)
                columns.append(ColumnInfo(c.name, c.type, before + c.nulls))
                continue
            u = columns[index[c.name]]
            u.type = c.type if u.type is None else u.type if c.type is None else widen(u.type, c.type)
            u.nulls += c.nulls
        for u in columns:
            if u.name not in present:
                u.nulls += scan.rows
        before += scan.rows
    return TableScan(scans[0].format, columns, before, scans[0].delimiter, parts=list(scans))


def table_batches(opens: list[Callable[[], BinaryIO]], scan: TableScan) -> Iterator[list[tuple]]:
    """`row_batches` over every file of a (combined) table, each opened in turn, its columns
    in the table's order (a column the file lacks: missing values)."""
    parts = scan.parts or [scan]
    if len(opens) != len(parts):
        raise RuntimeError(f"{len(opens)} files for a table of {len(parts)}")
    missing = "" if scan.format == "csv" else None
    for open_part, part in zip(opens, parts):
        mapping = [part.index.get(c.name) for c in scan.columns]
        stream = open_part()
        try:
            for cols in row_batches(stream, part):
                n = len(cols[0])
                yield [cols[j] if j is not None else (missing,) * n for j in mapping]
        finally:
            stream.close()
