"""Migrate a legacy HR export into canonical landing files through a declarative YAML mapping, then reconcile."""

# The mapping format is documented in ingestion/mappings/README.md; the shipped mappings there are worked examples.

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import sys
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from ingestion import reasons
from ingestion.contracts import CONTRACTS, DATE, SCORE, TIMESTAMP
from ingestion.load import LOAD_ORDER, ingest_days, raw_columns
from ingestion.privacy import load_or_create_key
from ingestion.readers import ENCODINGS, FileRejected, read_file
from ingestion.settings import PROJECT_ROOT, Settings

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
DEFAULT_VARIABLES = {"SHARED_DATA": str(PROJECT_ROOT.parent / "shared" / "data")}
# Excel's day 0 for the 1900 date system, shifted by Excel's phantom 29 February 1900.
EXCEL_EPOCH = dt.date(1899, 12, 30)
MIGRATION_PREFIX = "migration_"

SOURCE_KEYS = ("from", "const", "template", "same_as", "age", "spread")
STEP_KEYS = (
    "null_values",
    "map",
    "unmapped",
    "bands",
    "date",
    "minus_years",
    "plus_days",
    "normalise",
    "hash",
    "prefix",
)
DOC_KEYS = ("derived", "note")
UNMAPPED_POLICIES = ("reject", "empty", "keep", "contract")
NORMALISERS = ("person_name", "person_name_key", "lower", "upper", "collapse_spaces")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
# A format with a time of day yields a timestamp; without one, a date.
_TIME_CODES = re.compile(r"%[HIMSfpXc]")
_OUTCOMES = {
    "reject": "withheld from landing (unknown_label)",
    "empty": "left empty",
    "keep": "kept as written",
    "contract": "passed to the contract check",
}


class MappingError(Exception):
    """The mapping itself is wrong (unknown column, bad spec): nothing is written."""


class _Withheld(Exception):
    """One value cannot be mapped: the row is kept out of landing and reported with this reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Target:
    source: str
    columns: dict[str, dict]
    repeat: dict | None = None
    when: dict | None = None


@dataclass
class Mapping:
    name: str
    file: Path
    description: str
    input_path: Path
    encoding: str
    delimiter: str
    quotechar: str
    skip_blank_rows: bool
    targets: dict[str, Target]
    notes: list[str]
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{MIGRATION_PREFIX}{self.name}.csv"


@dataclass
class Export:
    columns: list[str]
    rows: list[tuple[int, dict[str, str | None] | None]]
    encoding: str | None
    size: int
    sha256: str
    skipped_blank: int


@dataclass
class TargetOutput:
    source: str
    columns: list[str]
    rows: list[dict[str, str | None]] = field(default_factory=list)
    source_rows: int = 0
    not_applicable: int = 0
    generated: int = 0
    withheld: list[dict] = field(default_factory=list)
    before: Counter = field(default_factory=Counter)
    unparsed_dates: Counter = field(default_factory=Counter)


# ---------------------------------------------------------------- mapping file


def resolve_mapping_path(text: str) -> Path:
    """A path, or the bare name of a shipped mapping (ibm_attrition -> ingestion/mappings/ibm_attrition.yaml)."""
    path = Path(text).expanduser()
    if path.exists():
        return path.resolve()
    shipped = MAPPINGS_DIR / (text if text.endswith((".yaml", ".yml")) else f"{text}.yaml")
    if shipped.exists():
        return shipped
    raise MappingError(f"no mapping file {text!r} (nor a shipped mapping of that name in {MAPPINGS_DIR})")


def _substitute(obj, variables: dict[str, str]):
    if isinstance(obj, str):

        def sub(m: re.Match) -> str:
            if m.group(1) not in variables:
                raise MappingError(f"${{{m.group(1)}}} is not defined in `variables` nor in the environment")
            return variables[m.group(1)]

        return _VARIABLE.sub(sub, obj)
    if isinstance(obj, dict):
        return {k: _substitute(v, variables) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_substitute(v, variables) for v in obj]
    return obj


def load_mapping(path: Path, environ: dict[str, str] | None = None) -> Mapping:
    """Parse, substitute and check a mapping file; every error names the place in the mapping."""
    path = Path(path).resolve()
    text = path.read_bytes()
    try:
        doc = yaml.safe_load(text.decode("utf-8-sig"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise MappingError(f"{path.name}: a mapping is a YAML object with name, input and targets")
    env = os.environ if environ is None else environ
    variables = {**DEFAULT_VARIABLES, **{k: v for k, v in env.items() if isinstance(v, str)}}
    declared = doc.get("variables") or {}
    if not isinstance(declared, dict):
        raise MappingError(f"{path.name}: `variables` must be an object")
    for k, v in declared.items():
        variables[str(k)] = str(_substitute(str(v), variables))
    doc = _substitute({k: v for k, v in doc.items() if k != "variables"}, variables)
    name = str(doc.get("name") or path.stem)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise MappingError(f"{path.name}: name {name!r} may hold only letters, digits, '_', '-' and '.'")
    inp = doc.get("input")
    if not isinstance(inp, dict) or not inp.get("path"):
        raise MappingError(f"{path.name}: `input.path` is required")
    input_path = Path(str(inp["path"])).expanduser()
    if not input_path.is_absolute():
        input_path = (path.parent / input_path).resolve()
    csv_opts = inp.get("csv") or {}
    encoding = str(inp.get("encoding") or "auto")
    if encoding != "auto":
        try:
            "".encode(encoding)
        except LookupError:
            raise MappingError(f"{path.name}: unknown encoding {encoding!r}") from None
    raw_targets = doc.get("targets")
    if not isinstance(raw_targets, dict) or not raw_targets:
        raise MappingError(f"{path.name}: `targets` must name at least one source")
    unknown = [t for t in raw_targets if t not in CONTRACTS]
    if unknown:
        raise MappingError(f"{path.name}: unknown target source(s) {unknown}; known: {', '.join(CONTRACTS)}")
    targets: dict[str, Target] = {}
    for source in LOAD_ORDER:
        if source in raw_targets:
            targets[source] = _check_target(source, raw_targets[source], f"{path.name}: targets.{source}")
    mapping = Mapping(
        name=name,
        file=path,
        description=str(doc.get("description") or "").strip(),
        input_path=input_path,
        encoding=encoding,
        delimiter=str(csv_opts.get("delimiter", ",")),
        quotechar=str(csv_opts.get("quotechar", '"')),
        skip_blank_rows=bool(inp.get("skip_blank_rows", True)),
        targets=targets,
        notes=[str(n).strip() for n in (doc.get("notes") or [])],
        sha256=hashlib.sha256(text).hexdigest(),
    )
    _check_references(mapping)
    return mapping


def _check_target(source: str, raw, where: str) -> Target:
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        raise MappingError(f"{where}: needs `columns`")
    extra = set(raw) - {"columns", "repeat", "when", "note"}
    if extra:
        raise MappingError(f"{where}: unknown key(s) {sorted(extra)}")
    contract = CONTRACTS[source]
    columns: dict[str, dict] = {}
    for col, spec in raw["columns"].items():
        if col not in contract.column_names:
            known = ", ".join(contract.column_names)
            raise MappingError(f"{where}.columns: {col!r} is not a {source} column ({known})")
        columns[col] = _check_spec(spec, f"{where}.columns.{col}")
    missing = [c for c in contract.required_columns if c not in columns]
    if missing:
        raise MappingError(f"{where}: the contract requires column(s) {', '.join(missing)}")
    repeat = raw.get("repeat")
    if repeat is not None and (not isinstance(repeat, dict) or not repeat.get("count")):
        raise MappingError(f"{where}.repeat: needs `count: COLUMN`")
    when = raw.get("when")
    if when is not None and (
        not isinstance(when, dict) or "column" not in when or not ({"in", "not_in", "present"} & set(when))
    ):
        raise MappingError(f"{where}.when: needs `column` and one of in / not_in / present")
    for col, spec in columns.items():
        if not repeat and ("spread" in spec or "{_n}" in str(spec.get("template", ""))):
            raise MappingError(f"{where}.columns.{col}: spread and {{_n}} need a `repeat` target")
    return Target(source, columns, repeat, when)


def _check_spec(spec, where: str) -> dict:
    if isinstance(spec, str):
        spec = {"from": spec}
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: a column is a source column name or an object")
    unknown = set(spec) - set(SOURCE_KEYS) - set(STEP_KEYS) - set(DOC_KEYS)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {sorted(unknown)}")
    given = [k for k in SOURCE_KEYS if k in spec]
    if len(given) != 1:
        raise MappingError(f"{where}: needs exactly one of {', '.join(SOURCE_KEYS)} (found {given or 'none'})")
    spec = dict(spec)
    if "const" in spec:
        spec["const"] = _scalar(spec["const"], f"{where}.const")
    if "map" in spec:
        if not isinstance(spec["map"], dict):
            raise MappingError(f"{where}.map: must be an object of label: value")
        table: dict[str, str | None] = {}
        for label, value in spec["map"].items():
            if isinstance(label, (bool, float)):
                raise MappingError(
                    f"{where}.map: label {label!r} was read by YAML as a {type(label).__name__}: quote it"
                )
            key = _label_key(str(label))
            mapped = _scalar(value, f"{where}.map[{label!r}]")
            if key in table and table[key] != mapped:
                raise MappingError(f"{where}.map: {label!r} maps twice, to {table[key]!r} and {mapped!r}")
            table[key] = mapped
        spec["map"] = table
    if spec.get("unmapped") is not None and spec["unmapped"] not in UNMAPPED_POLICIES:
        raise MappingError(f"{where}.unmapped: one of {', '.join(UNMAPPED_POLICIES)}")
    if "null_values" in spec:
        spec["null_values"] = frozenset(_label_key(str(v)) for v in spec["null_values"] or [])
    if "normalise" in spec and spec["normalise"] not in NORMALISERS:
        raise MappingError(f"{where}.normalise: one of {', '.join(NORMALISERS)}")
    if "hash" in spec and (not isinstance(spec["hash"], int) or not 8 <= spec["hash"] <= 64):
        raise MappingError(f"{where}.hash: a number of hex characters between 8 and 64")
    if "date" in spec:
        _check_date_format(spec["date"], f"{where}.date")
    if "bands" in spec:
        bands = []
        for label, bounds in (spec["bands"] or {}).items():
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise MappingError(f"{where}.bands.{label}: [min, max] (max null for open-ended)")
            bands.append((str(label), bounds[0], bounds[1]))
        spec["bands"] = bands
    if "age" in spec:
        age = spec["age"]
        # Not `on`: YAML 1.1 reads an unquoted `on` as true.
        if not isinstance(age, dict) or set(age) != {"birth", "at"}:
            raise MappingError(f"{where}.age: needs exactly `birth` and `at`")
        spec["age"] = {k: _check_spec(v, f"{where}.age.{k}") for k, v in age.items()}
    if "spread" in spec:
        sp = spec["spread"]
        if not isinstance(sp, dict) or "start" not in sp or not isinstance(sp.get("days"), int):
            raise MappingError(f"{where}.spread: needs `start` and a whole number of `days` (and optional `end`)")
        spec["spread"] = {
            "start": _check_spec(sp["start"], f"{where}.spread.start"),
            "end": _check_spec(sp["end"], f"{where}.spread.end") if sp.get("end") is not None else None,
            "days": sp["days"],
        }
    if "same_as" in spec and not re.fullmatch(r"[a-z_]+\.[a-z_]+", str(spec["same_as"])):
        raise MappingError(f"{where}.same_as: target.column")
    return spec


def _check_date_format(fmt, where: str) -> None:
    if fmt in ("excel_serial", "iso"):
        return
    if isinstance(fmt, str) and "%" in fmt:
        return
    if isinstance(fmt, dict) and isinstance(fmt.get("format"), str) and set(fmt) <= {"format", "max_year"}:
        if "max_year" in fmt and not isinstance(fmt["max_year"], int):
            raise MappingError(f"{where}.max_year: a four-digit year")
        return
    raise MappingError(f"{where}: a strftime format, excel_serial, iso, or {{format, max_year}}")


def _scalar(value, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise MappingError(f"{where}: must be a single value")


def _label_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _spec_inputs(spec: dict) -> tuple[set[str], set[str]]:
    """(export columns, target.column references) a column spec reads, for header checks and coverage."""
    cols: set[str] = set()
    refs: set[str] = set()
    if "from" in spec:
        cols.add(str(spec["from"]))
    if "template" in spec:
        for name in _PLACEHOLDER.findall(str(spec["template"])):
            if name not in ("_n", "_row"):
                cols.add(name)
    if "same_as" in spec:
        refs.add(spec["same_as"])
    for nested in [*(spec.get("age") or {}).values(), *(spec.get("spread") or {}).values()]:
        if isinstance(nested, dict):
            c, r = _spec_inputs(nested)
            cols |= c
            refs |= r
    for step in ("minus_years", "plus_days"):
        if isinstance(spec.get(step), str):
            cols.add(spec[step])
    return cols, refs


def _check_references(mapping: Mapping) -> None:
    order = list(mapping.targets)
    for source, target in mapping.targets.items():
        for col, spec in target.columns.items():
            _, refs = _spec_inputs(spec)
            if "template" in spec:
                refs |= {n for n in _PLACEHOLDER.findall(str(spec["template"])) if _is_target_ref(n, mapping)}
            for ref in refs:
                t, c = ref.split(".", 1)
                if t not in mapping.targets or c not in mapping.targets[t].columns:
                    raise MappingError(f"targets.{source}.columns.{col}: {ref} is not a mapped column")
                if order.index(t) >= order.index(source) or mapping.targets[t].repeat:
                    raise MappingError(
                        f"targets.{source}.columns.{col}: {ref} must be a one-row-per-record target loaded earlier"
                    )


def _is_target_ref(name: str, mapping: Mapping) -> bool:
    head = name.split(".", 1)[0]
    return "." in name and head in mapping.targets


def required_export_columns(mapping: Mapping) -> set[str]:
    cols: set[str] = set()
    for target in mapping.targets.values():
        for spec in target.columns.values():
            c, _ = _spec_inputs(spec)
            cols |= {x for x in c if not _is_target_ref(x, mapping)}
        if target.repeat:
            cols.add(str(target.repeat["count"]))
        if target.when:
            cols.add(str(target.when["column"]))
    return cols


# ---------------------------------------------------------------- reading the export


def read_export(mapping: Mapping) -> Export:
    """The export's rows; the readers module decodes it unless the mapping fixes an encoding or a CSV dialect."""
    path = mapping.input_path
    if not path.is_file():
        raise MappingError(f"the export {path} does not exist")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    default_dialect = mapping.delimiter == "," and mapping.quotechar == '"'
    if path.suffix.lower() != ".csv" or (mapping.encoding == "auto" and default_dialect):
        parsed = read_file(path)
        rows = [(r.row_number, r.values) for r in parsed.records]
        columns, encoding = parsed.columns, parsed.encoding
    else:
        columns, rows, encoding = _read_csv(data, mapping)
    kept: list[tuple[int, dict[str, str | None] | None]] = []
    skipped = 0
    for number, values in rows:
        if mapping.skip_blank_rows and values is not None and all(v is None or not v.strip() for v in values.values()):
            skipped += 1
            continue
        kept.append((number, values))
    return Export(columns, kept, encoding, len(data), digest, skipped)


def _read_csv(data: bytes, mapping: Mapping) -> tuple[list[str], list, str]:
    candidates = ENCODINGS if mapping.encoding == "auto" else (mapping.encoding,)
    for encoding in candidates:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{mapping.input_path.name} is not {' or '.join(candidates)} text")
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, quotechar=mapping.quotechar)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileRejected(reasons.EMPTY_FILE, f"{mapping.input_path.name} has no header") from None
    rows = []
    number = 0
    for fields in reader:
        if not fields:
            continue
        number += 1
        if len(fields) != len(header):
            rows.append((number, None))
            continue
        rows.append((number, {h: (f if f.strip() else None) for h, f in zip(header, fields, strict=True)}))
    return header, rows, encoding


# ---------------------------------------------------------------- applying the mapping


@dataclass
class _Row:
    values: dict[str, str | None]
    number: int
    outputs: dict[str, dict[str, str | None]]
    n: int | None = None
    count: int | None = None


class _Mapper:
    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        # (target, column, source, value, outcome) -> rows
        self.unmapped: Counter = Counter()
        # Export columns each target column reads, for the before-mapping coverage.
        self.inputs = {
            (s, c): {x for x in _spec_inputs(spec)[0] if not _is_target_ref(x, mapping)}
            for s, t in mapping.targets.items()
            for c, spec in t.columns.items()
        }

    def run(self, export: Export) -> dict[str, TargetOutput]:
        outputs = {
            s: TargetOutput(s, [c for c in CONTRACTS[s].column_names if c in t.columns])
            for s, t in self.mapping.targets.items()
        }
        for number, values in export.rows:
            if values is None:
                for out in outputs.values():
                    out.source_rows += 1
                    out.withheld.append(
                        _withheld(number, None, reasons.MALFORMED_ROW, "the export row cannot be split", built=False)
                    )
                continue
            clean = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}
            row = _Row(clean, number, {})
            for source, target in self.mapping.targets.items():
                self._target_row(target, row, outputs[source])
        return outputs

    def _target_row(self, target: Target, row: _Row, out: TargetOutput) -> None:
        out.source_rows += 1
        if target.when and not _when(target.when, row.values):
            out.not_applicable += 1
            return
        if not target.repeat:
            row.outputs[target.source] = self._emit(target, row, out)
            return
        text = row.values.get(str(target.repeat["count"]))
        try:
            count = _whole(text) if text is not None else 0
            if count < 0:
                raise ValueError
        except ValueError:
            message = f"repeat count {text!r} is not a whole number >= 0"
            out.withheld.append(_withheld(row.number, None, reasons.INVALID_TYPE, message, built=False))
            return
        for n in range(1, count + 1):
            self._emit(target, _Row(row.values, row.number, row.outputs, n, count), out)

    def _emit(self, target: Target, row: _Row, out: TargetOutput) -> dict[str, str | None]:
        out.generated += 1
        values: dict[str, str | None] = {}
        errors: list[_Withheld] = []
        for col in out.columns:
            spec = target.columns[col]
            cols = self.inputs[(target.source, col)]
            if cols and all(row.values.get(c) is not None for c in cols):
                out.before[col] += 1
            try:
                values[col] = self._value(spec, row, target.source, col, out, top=True)
            except _Withheld as err:
                values[col] = None
                errors.append(err)
        if errors:
            first = errors[0]
            message = "; ".join(e.message for e in errors)
            out.withheld.append(_withheld(row.number, row.n, first.reason, message))
        else:
            out.rows.append(values)
        return values

    def _value(self, spec: dict, row: _Row, source: str, col: str, out: TargetOutput, top: bool = False):
        contract_col = CONTRACTS[source].column(col)
        value = self._source_value(spec, row, source, col, out)
        described = _describe(spec)
        if value is not None and "null_values" in spec and _label_key(str(value)) in spec["null_values"]:
            value = None
        if value is not None and "map" in spec:
            value = self._map(spec, str(value), source, col, described, contract_col)
        if value is not None and "bands" in spec:
            value = self._band(spec, value, source, col, described)
        shifting = "minus_years" in spec or "plus_days" in spec
        # Nested specs (age, spread) always yield dates; a top-level one only when it declares a format or a shift.
        if value is not None and ("date" in spec or shifting or not top):
            if not isinstance(value, dt.date):
                fmt = spec.get("date", "iso")
                try:
                    value = _parse_date(str(value), fmt)
                except ValueError:
                    if top and contract_col.type in (DATE, TIMESTAMP) and not shifting:
                        # The contract check quarantines it as invalid_date, with the original text in the payload.
                        out.unparsed_dates[col] += 1
                        return str(value)
                    raise _Withheld(
                        reasons.INVALID_DATE, f"{col}: {value!r} (from {described}) does not match {fmt}"
                    ) from None
            value = self._shift(spec, value, row, col)
        if value is not None and "normalise" in spec:
            value = _normalise(str(value), spec["normalise"])
        if value is not None and "hash" in spec:
            value = hashlib.sha256(str(value).encode()).hexdigest()[: spec["hash"]]
        if value is not None and "prefix" in spec:
            value = f"{spec['prefix']}{value}"
        if not top:
            return value
        if isinstance(value, dt.date):
            return value.isoformat()
        return None if value is None else str(value)

    def _source_value(self, spec: dict, row: _Row, source: str, col: str, out: TargetOutput):
        if "from" in spec:
            return row.values.get(str(spec["from"]))
        if "const" in spec:
            return spec["const"]
        if "template" in spec:
            return self._template(str(spec["template"]), row)
        if "same_as" in spec:
            t, c = spec["same_as"].split(".", 1)
            return row.outputs.get(t, {}).get(c)
        if "age" in spec:
            birth = _day(self._value(spec["age"]["birth"], row, source, col, out))
            on = _day(self._value(spec["age"]["at"], row, source, col, out))
            if birth is None or on is None:
                return None
            return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        sp = spec["spread"]
        start = _day(self._value(sp["start"], row, source, col, out))
        if start is None:
            return None
        end = _day(self._value(sp["end"], row, source, col, out)) if sp["end"] else None
        window = sp["days"] if end is None or end < start else min(sp["days"], (end - start).days)
        return start + dt.timedelta(days=window * row.n // (row.count + 1))

    def _template(self, text: str, row: _Row) -> str | None:
        missing = False

        def sub(m: re.Match) -> str:
            nonlocal missing
            name = m.group(1)
            if name == "_n":
                value = str(row.n)
            elif name == "_row":
                value = str(row.number)
            elif name in row.values:
                value = row.values[name]
            else:
                t, _, c = name.partition(".")
                value = row.outputs.get(t, {}).get(c)
            if value is None:
                missing = True
                return ""
            return value

        result = _PLACEHOLDER.sub(sub, text)
        return None if missing else result

    def _map(self, spec: dict, value: str, source: str, col: str, described: str, contract_col) -> str | None:
        key = _label_key(value)
        if key in spec["map"]:
            return spec["map"][key]
        policy = spec.get("unmapped") or (
            "contract" if contract_col.allowed is not None or contract_col.type == SCORE else "reject"
        )
        shown = "[redacted]" if contract_col.pii else value
        self.unmapped[(source, col, described, shown, policy)] += 1
        if policy == "reject":
            raise _Withheld(
                reasons.UNKNOWN_LABEL, f"{col}: {shown!r} (from {described}) is not in the mapping's value map"
            )
        return None if policy == "empty" else value

    def _band(self, spec: dict, value, source: str, col: str, described: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            raise _Withheld(reasons.INVALID_TYPE, f"{col}: {value!r} (from {described}) is not a number") from None
        for label, lo, hi in spec["bands"]:
            if (lo is None or number >= lo) and (hi is None or number <= hi):
                return label
        policy = spec.get("unmapped") or "reject"
        self.unmapped[(source, col, described, str(value), policy)] += 1
        if policy == "reject":
            raise _Withheld(reasons.UNKNOWN_LABEL, f"{col}: {value} (from {described}) falls in no band")
        return None if policy == "empty" else str(value)

    def _shift(self, spec: dict, value: dt.date, row: _Row, col: str) -> dt.date:
        for step in ("minus_years", "plus_days"):
            if step not in spec:
                continue
            amount = spec[step]
            text = row.values.get(amount) if isinstance(amount, str) else str(amount)
            if text is None:
                raise _Withheld(reasons.MISSING_KEY, f"{col}: {amount} is empty, so the date cannot be derived")
            try:
                n = _whole(text)
            except ValueError:
                raise _Withheld(reasons.INVALID_TYPE, f"{col}: {amount}={text!r} is not a whole number") from None
            if step == "plus_days":
                value = value + dt.timedelta(days=n)
            else:
                try:
                    value = value.replace(year=value.year - n)
                except ValueError:  # 29 February in a year without one
                    value = value.replace(year=value.year - n, day=28)
        return value


def _withheld(number: int, n: int | None, reason: str, message: str, built: bool = True) -> dict:
    """built=False: the source row could not even be turned into rows (malformed, or a bad repeat count)."""
    return {"source_row": number, "repeat_index": n, "reason": reason, "message": message, "built": built}


def _when(when: dict, values: dict[str, str | None]) -> bool:
    value = values.get(str(when["column"]))
    if "present" in when:
        return (value is not None) == bool(when["present"])
    key = _label_key(value) if value is not None else ""
    if "in" in when:
        return key in {_label_key(str(v)) for v in when["in"]}
    return key not in {_label_key(str(v)) for v in when["not_in"]}


def _whole(text: str) -> int:
    number = float(text)
    if not number.is_integer():
        raise ValueError(text)
    return int(number)


def _describe(spec: dict) -> str:
    if "from" in spec:
        base = str(spec["from"])
    elif "template" in spec:
        base = f"template {spec['template']}"
    elif "same_as" in spec:
        base = str(spec["same_as"])
    elif "age" in spec:
        base = f"age({_describe(spec['age']['birth'])} -> {_describe(spec['age']['at'])})"
    elif "spread" in spec:
        base = f"spread({_describe(spec['spread']['start'])})"
    else:
        base = "constant"
    shifts = [f"{k.replace('_', ' ')} {spec[k]}" for k in ("minus_years", "plus_days") if k in spec]
    return " ".join([base, *shifts])


def _day(value: dt.date | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


def _parse_date(text: str, fmt) -> dt.date:
    text = text.strip()
    if fmt == "excel_serial":
        serial = float(text)
        if not 1 <= serial < 2_958_466:  # Excel's own range: 1900-01-01 .. 9999-12-31
            raise ValueError(text)
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    if fmt == "iso":
        return dt.datetime.fromisoformat(text) if len(text) > 10 else dt.date.fromisoformat(text)
    pattern, max_year = (fmt["format"], fmt.get("max_year")) if isinstance(fmt, dict) else (fmt, None)
    value = dt.datetime.strptime(text, pattern)
    if not _TIME_CODES.search(pattern):
        value = value.date()
    if max_year is not None and "%y" in pattern:
        # strptime puts 00-68 in the 2000s; a date of birth of '51' means 1951, so the mapping declares the pivot.
        year = max_year - max_year % 100 + value.year % 100
        if year > max_year:
            year -= 100
        value = value.replace(year=year)
    return value


def _normalise(text: str, how: str) -> str | None:
    text = unicodedata.normalize("NFKC", text)
    if how == "lower":
        return text.strip().lower()
    if how == "upper":
        return text.strip().upper()
    if how == "collapse_spaces":
        return " ".join(text.split())
    # Exports write "Last, First M"; people and their managers are then written "First Last".
    if "," in text:
        last, first = text.split(",", 1)
        text = f"{first} {last}"
    name = " ".join(text.split())
    if how == "person_name":
        return name or None
    # The key ignores case, punctuation and Latin middle initials, which the same person's records spell differently.
    tokens = re.sub(r"[^\w\s]", " ", name.casefold()).split()
    return " ".join(t for t in tokens if not (len(t) == 1 and t.isascii())) or None


# ---------------------------------------------------------------- landing, loading, reporting


def _landing_file(settings: Settings, source: str, day: dt.date, mapping: Mapping) -> Path:
    return settings.landing / source / day.isoformat() / mapping.file_name


def earlier_landing_days(settings: Settings, mapping: Mapping) -> list[dt.date]:
    """Days on which an earlier run of this migration left a landing file."""
    days: set[dt.date] = set()
    for source in CONTRACTS:
        for path in (settings.landing / source).glob(f"*/{mapping.file_name}"):
            try:
                days.add(dt.date.fromisoformat(path.parent.name))
            except ValueError:
                continue
    return sorted(days)


def _choose_day(settings: Settings, mapping: Mapping, requested: dt.date | None, now: dt.datetime):
    earlier = earlier_landing_days(settings, mapping)
    if requested is not None:
        return requested, "given", [d for d in earlier if d != requested]
    if earlier:
        # A rerun replaces the earlier landing, so the rows stay loaded once (delete-then-insert by day).
        return earlier[-1], "the day an earlier run of this migration landed on", earlier[:-1]
    return now.date(), "the run date", []


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    # A crash mid-write must not leave a half file for the nightly run to load.
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def _loaded_stats(con: duckdb.DuckDBPyConnection, source: str, day: dt.date, rel: str, columns: list[str]) -> dict:
    read, loaded, quarantined = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
        "from raw.load_log where source = ? and _partition_date = ? and _source_file = ?",
        [source, day, rel],
    ).fetchone()
    by_reason = dict(
        con.execute(
            "select reason_code, count(*) from raw.quarantine "
            "where source = ? and _partition_date = ? and _source_file = ? group by 1 order by 1",
            [source, day, rel],
        ).fetchall()
    )
    contract = CONTRACTS[source]
    raw_names = {n for n, _ in raw_columns(contract)}
    stored = {c: (f"{c}_key" if contract.column(c).pii else c) for c in columns}
    stored = {c: s for c, s in stored.items() if s in raw_names}
    counts = {}
    if stored:
        select = ", ".join(f"count({s})" for s in stored.values())
        values = con.execute(f"select {select} from raw.{source} where _source_file = ?", [rel]).fetchone()
        counts = dict(zip(stored, values, strict=True))
    content = hashlib.sha256()
    cur = con.execute(
        f"select * exclude (_loaded_at, _batch_id) from raw.{source} where _source_file = ? order by _row_number",
        [rel],
    )
    in_raw = 0
    while batch := cur.fetchmany(5000):
        for r in batch:
            in_raw += 1
            content.update(json.dumps(r, default=str, ensure_ascii=False).encode())
            content.update(b"\n")
    return {
        "rows_read": int(read),
        "loaded": int(loaded),
        "quarantined": int(quarantined),
        "quarantined_by_reason": by_reason,
        "rows_in_raw": in_raw,
        "loaded_non_null": counts,
        "loaded_content_sha256": content.hexdigest(),
    }


def migrate(
    mapping_path: Path | str,
    settings: Settings,
    landing_day: dt.date | None = None,
    load: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
    pii_con: duckdb.DuckDBPyConnection | None = None,
    environ: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Map the export to landing files, load them (unless load=False), and write the reconciliation report."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    settings.ensure()
    mapping = load_mapping(resolve_mapping_path(str(mapping_path)), environ)
    export = read_export(mapping)
    missing = sorted(required_export_columns(mapping) - set(export.columns))
    if missing:
        raise MappingError(
            f"the export lacks column(s) {missing}; its header is: {', '.join(c for c in export.columns if c)}"
        )
    mapper = _Mapper(mapping)
    outputs = mapper.run(export)
    day, day_reason, other_days = _choose_day(settings, mapping, landing_day, now)

    files: dict[str, dict] = {}
    touched: list[str] = []
    for source, out in outputs.items():
        path = _landing_file(settings, source, day, mapping)
        rel = str(path.relative_to(settings.landing))
        if out.rows:
            files[source] = {"file": rel, "sha256": _write_csv(path, out.columns, out.rows)}
            touched.append(source)
        else:
            # Zero rows: no file (a header-only file is a rejected file), and none left from an earlier run.
            files[source] = {"file": None, "sha256": None}
            if path.exists():
                path.unlink()
                touched.append(source)

    loaded: dict[str, dict] = {}
    if load and touched:
        own_con, own_pii = con is None, pii_con is None
        con = con or duckdb.connect(str(settings.warehouse), config=settings.duckdb_config())
        pii_con = pii_con or duckdb.connect(str(settings.pii_database))
        try:
            key = load_or_create_key(settings.pseudonym_key_file)
            batch_id = f"migrate-{mapping.name}-{uuid.uuid4().hex[:12]}"
            for source in LOAD_ORDER:
                if source in touched:
                    ingest_days(con, settings.landing, source, [day], key, pii_con, batch_id)
            for source, out in outputs.items():
                rel = str(_landing_file(settings, source, day, mapping).relative_to(settings.landing))
                loaded[source] = _loaded_stats(con, source, day, rel, out.columns)
        finally:
            if own_con:
                con.close()
            if own_pii:
                pii_con.close()

    report = _build_report(mapping, export, outputs, mapper, files, loaded, day, day_reason, other_days, now, load)
    folder = settings.home / "migrations" / f"{mapping.name}-{now:%Y%m%dT%H%M%S}Z"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = settings.home / "migrations" / f"{mapping.name}-{now:%Y%m%dT%H%M%S}Z-{suffix}"
    folder.mkdir(parents=True)
    report["report_dir"] = str(folder)
    withheld = [{"target": s, **w} for s, out in outputs.items() for w in out.withheld]
    if withheld:
        with open(folder / "withheld.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, ["target", "source_row", "repeat_index", "reason", "message", "built"])
            writer.writeheader()
            writer.writerows(withheld)
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report


def _build_report(mapping, export, outputs, mapper, files, loaded, day, day_reason, other_days, now, load) -> dict:
    targets: dict[str, dict] = {}
    all_balanced = True
    for source, out in outputs.items():
        target = mapping.targets[source]
        by_reason = Counter(w["reason"] for w in out.withheld)
        written = len(out.rows)
        stats = loaded.get(source)
        coverage = {}
        for col in out.columns:
            spec = target.columns[col]
            cols = mapper.inputs[(source, col)]
            after = sum(1 for r in out.rows if r[col] is not None)
            entry = {
                "from": _describe(spec),
                "before": round(out.before[col] / out.generated, 4) if cols and out.generated else None,
                "after": round(after / written, 4) if written else None,
                "after_count": after,
            }
            if stats is not None:
                n = stats["loaded_non_null"].get(col)
                entry["loaded"] = round(n / stats["loaded"], 4) if n is not None and stats["loaded"] else None
                entry["loaded_count"] = n
            if spec.get("derived"):
                entry["derived"] = " ".join(str(spec["derived"]).split())
            if out.unparsed_dates[col]:
                entry["unparsed_dates_passed_to_contract"] = out.unparsed_dates[col]
            coverage[col] = entry
        # Every source row is accounted for: not applicable, built into rows, or unbuildable; every built row is
        # written or withheld; every written row is loaded or quarantined.
        built_withheld = sum(1 for w in out.withheld if w["built"])
        unbuilt = len(out.withheld) - built_withheld
        mapped_ok = out.generated == written + built_withheld and (
            target.repeat is not None or out.source_rows == out.not_applicable + out.generated + unbuilt
        )
        balanced = mapped_ok and (stats is None or written == stats["loaded"] + stats["quarantined"])
        all_balanced &= balanced
        entry = {
            "file": files[source]["file"],
            "file_sha256": files[source]["sha256"],
            "source_rows": out.source_rows,
            "not_applicable": out.not_applicable,
            "repeat_count_column": str(target.repeat["count"]) if target.repeat else None,
            "generated": out.generated,
            "withheld_by_mapping": len(out.withheld),
            "withheld_by_reason": dict(sorted(by_reason.items())),
            "written": written,
            "loaded": stats["loaded"] if stats else None,
            "quarantined": stats["quarantined"] if stats else None,
            "quarantined_by_reason": stats["quarantined_by_reason"] if stats else None,
            "balanced": balanced,
            "loaded_content_sha256": stats["loaded_content_sha256"] if stats else None,
            "coverage": coverage,
        }
        targets[source] = entry
    used = required_export_columns(mapping)
    unmapped = [
        {"target": t, "column": c, "source": s, "value": v, "rows": n, "outcome": _OUTCOMES[p]}
        for (t, c, s, v, p), n in sorted(mapper.unmapped.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[1]))
    ]
    return {
        "migration": mapping.name,
        "description": mapping.description,
        "mapping_file": str(mapping.file),
        "run_at": now.isoformat(timespec="seconds") + "Z",
        "landing_day": day.isoformat(),
        "landing_day_reason": day_reason,
        "other_landing_days_of_this_migration": [d.isoformat() for d in other_days],
        "loaded": bool(load),
        "input": {
            "path": str(mapping.input_path),
            "encoding": export.encoding,
            "bytes": export.size,
            "columns": len([c for c in export.columns if c]),
            "data_rows": len(export.rows) + export.skipped_blank,
            "skipped_blank_rows": export.skipped_blank,
            "malformed_rows": sum(1 for _, v in export.rows if v is None),
            "rows_in": len(export.rows),
            "unused_columns": [c for c in export.columns if c and c not in used],
        },
        "targets": targets,
        "unmapped_labels": unmapped,
        "derived_columns": [
            {"target": s, "column": c, "note": e["derived"]}
            for s, t in targets.items()
            for c, e in t["coverage"].items()
            if "derived" in e
        ],
        "notes": mapping.notes,
        "checksums": {
            "input_sha256": export.sha256,
            "mapping_sha256": mapping.sha256,
            "landing_sha256": {s: t["file_sha256"] for s, t in targets.items()},
            "loaded_content_sha256": {s: t["loaded_content_sha256"] for s, t in targets.items()},
        },
        "balanced": all_balanced,
    }


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:,}" for k, v in value.items()) or "–"
    return str(value).replace("|", "\\|")


def render_markdown(report: dict) -> str:
    """The report for people: the same numbers as report.json."""
    inp = report["input"]
    lines = [
        f"# Migration report: {report['migration']}",
        "",
        report["description"] or "",
        "",
        f"- Run at {report['run_at']}; mapping `{report['mapping_file']}`",
        f"- Landing day {report['landing_day']} ({report['landing_day_reason']}); "
        f"{'loaded into raw' if report['loaded'] else 'not loaded (--no-load): the nightly run will load it'}",
        f"- Reconciliation: **{'balanced' if report['balanced'] else 'NOT BALANCED'}**",
    ]
    if report["other_landing_days_of_this_migration"]:
        days = ", ".join(report["other_landing_days_of_this_migration"])
        lines.append(f"- Earlier landings of this migration remain on {days}: identical rows there are quarantined.")
    lines += [
        "",
        "## Input",
        "",
        "| file | encoding | bytes | data rows | blank rows skipped | malformed | rows in |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        f"| `{inp['path']}` | {inp['encoding']} | {inp['bytes']:,} | {inp['data_rows']:,} | "
        f"{inp['skipped_blank_rows']:,} | {inp['malformed_rows']:,} | {inp['rows_in']:,} |",
        "",
        f"Columns not used by the mapping: {', '.join(inp['unused_columns']) or 'none'}.",
        "",
        "## Reconciliation per target",
        "",
        "| target | source rows | not applicable | generated | withheld by mapping | written | loaded | quarantined "
        "| balanced |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for source, t in report["targets"].items():
        generated = _fmt(t["generated"])
        if t["repeat_count_column"]:
            generated += f" (one per unit of `{t['repeat_count_column']}`)"
        lines.append(
            f"| {source} | {_fmt(t['source_rows'])} | {_fmt(t['not_applicable'])} | {generated} | "
            f"{_fmt(t['withheld_by_mapping'])} | {_fmt(t['written'])} | {_fmt(t['loaded'])} | "
            f"{_fmt(t['quarantined'])} | {'yes' if t['balanced'] else '**no**'} |"
        )
    lines += ["", "## Rows not loaded, by reason", "", "| target | stage | reason | rows |"]
    lines.append("| --- | --- | --- | ---: |")
    any_reason = False
    for source, t in report["targets"].items():
        for reason, n in t["withheld_by_reason"].items():
            lines.append(f"| {source} | mapping (withheld) | {reason} | {n:,} |")
            any_reason = True
        for reason, n in (t["quarantined_by_reason"] or {}).items():
            lines.append(f"| {source} | contract (raw.quarantine) | {reason} | {n:,} |")
            any_reason = True
    if not any_reason:
        lines.append("| – | – | none | 0 |")
    lines += ["", "## Unmapped label values", ""]
    if report["unmapped_labels"]:
        lines += ["| target | column | source | value | rows | outcome |", "| --- | --- | --- | --- | ---: | --- |"]
        for u in report["unmapped_labels"]:
            lines.append(
                f"| {u['target']} | {u['column']} | {_fmt(u['source'])} | `{_fmt(u['value'])}` | {u['rows']:,} | "
                f"{u['outcome']} |"
            )
    else:
        lines.append("Every label value met in the export is in its value map.")
    lines += ["", "## Derived values (not read from the export)", ""]
    lines += [f"- `{d['target']}.{d['column']}`: {d['note']}" for d in report["derived_columns"]] or ["None."]
    lines += ["", "## Coverage (share of rows with a value)", ""]
    for source, t in report["targets"].items():
        lines += [
            f"### {source}",
            "",
            "| column | from | before mapping | after mapping | loaded |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for col, c in t["coverage"].items():
            lines.append(
                f"| {col} | {_fmt(c['from'])} | {_fmt(c['before'])} | {_fmt(c['after'])} | {_fmt(c.get('loaded'))} |"
            )
        lines.append("")
    sums = report["checksums"]
    lines += [
        "## Checksums (SHA-256)",
        "",
        f"- input file: `{sums['input_sha256']}`",
        f"- mapping file: `{sums['mapping_sha256']}`",
    ]
    for source in report["targets"]:
        lines.append(
            f"- {source}: landing file `{sums['landing_sha256'][source] or '–'}`, "
            f"loaded rows `{sums['loaded_content_sha256'][source] or '–'}`"
        )
    if report["notes"]:
        lines += ["", "## Notes from the mapping", ""] + [f"- {' '.join(n.split())}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


def summary(report: dict) -> str:
    """A few lines for the terminal."""
    inp = report["input"]
    out = [
        f"Migration {report['migration']}: {inp['rows_in']:,} rows in "
        f"({inp['skipped_blank_rows']:,} blank skipped), landing day {report['landing_day']}",
    ]
    for source, t in report["targets"].items():
        load = "" if t["loaded"] is None else f", loaded {t['loaded']:,}, quarantined {t['quarantined']:,}"
        out.append(
            f"  {source:<20} written {t['written']:>7,}, withheld {t['withheld_by_mapping']:>5,}{load}"
            f"{'' if t['balanced'] else '  NOT BALANCED'}"
        )
    if report["unmapped_labels"]:
        out.append(f"  unmapped label values: {len(report['unmapped_labels'])} (see the report)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """talentloop migrate --mapping FILE [--day YYYY-MM-DD] [--no-load]"""
    parser = argparse.ArgumentParser(
        prog="talentloop migrate", description="Import a legacy HR export through a declarative mapping."
    )
    parser.add_argument("--mapping", required=True, help="mapping YAML file, or the name of a shipped mapping")
    parser.add_argument("--day", type=dt.date.fromisoformat, help="landing day (default: the earlier one, or today)")
    parser.add_argument("--no-load", action="store_true", help="only write landing files and the report")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings.from_env().ensure()
    try:
        report = migrate(args.mapping, settings, landing_day=args.day, load=not args.no_load)
    except (MappingError, FileRejected) as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 2
    print(summary(report))
    print(f"Report: {Path(report['report_dir']) / 'report.md'}")
    return 0 if report["balanced"] else 1


if __name__ == "__main__":
    sys.exit(main())
