"""Arrow tables in contract shape: contract columns in order and type, plus `_day` (the landing day) and internals.

Columns whose names start with "_" are the generator's own (landing day, document text) and never reach a file.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from ingestion.contracts import BOOL, CONTRACTS, DATE, FLOAT, INT, TIMESTAMP

ARROW_TYPES = {INT: pa.int64(), FLOAT: pa.float64(), BOOL: pa.bool_(), DATE: pa.date32(), TIMESTAMP: pa.timestamp("s")}
DAY = "_day"


def arrow_type(contract_type: str) -> pa.DataType:
    return ARROW_TYPES.get(contract_type, pa.string())


def timestamps(start: date, secs: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    values = np.datetime64(start, "s") + np.asarray(secs, dtype=np.int64).astype("timedelta64[s]")
    return pa.array(values, type=pa.timestamp("s"), mask=None if valid is None else ~valid)


def dates(start: date, days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    values = np.datetime64(start, "D") + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")
    return pa.array(values, type=pa.date32(), mask=None if valid is None else ~valid)


def ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded identifiers, so that text order is numeric order."""
    if len(numbers) == 0:
        return np.empty(0, dtype=object)
    return (prefix + np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width)).astype(object)


def masked(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Object array with None where not valid (a blank cell)."""
    out = np.asarray(values, dtype=object).copy()
    out[~valid] = None
    return out


def build(source: str, columns: dict, day: np.ndarray, internal: dict | None = None) -> pa.Table:
    """A table with the contract's columns in order (absent ones all blank), `_day` and internal columns."""
    n = len(day)
    arrays, names = [], []
    for col in CONTRACTS[source].columns:
        value = columns.get(col.name)
        typ = arrow_type(col.type)
        if value is None:
            arrays.append(pa.nulls(n, type=typ))
        elif isinstance(value, pa.Array):
            arrays.append(value)
        else:
            arrays.append(pa.array(value, type=typ))
        names.append(col.name)
    arrays.append(pa.array(np.asarray(day, dtype=np.int32)))
    names.append(DAY)
    for name, value in (internal or {}).items():
        arrays.append(value if isinstance(value, pa.Array) else pa.array(value))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def contract_part(table: pa.Table) -> pa.Table:
    """Only the contract columns, as they go to a file."""
    return table.select([n for n in table.column_names if not n.startswith("_")])
