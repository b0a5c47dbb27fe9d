"""Quarantine reason codes: one vocabulary for readers, contracts, the generator's fault manifest and dashboards."""

from __future__ import annotations

# File-level reasons: the whole file is quarantined as one row (row number 0).
EMPTY_FILE = "empty_file"  # zero bytes, or a header and no data rows
UNREADABLE_FILE = "unreadable_file"  # cannot be decoded or parsed at all (wrong format, corrupt workbook)
MISSING_COLUMNS = "missing_columns"  # a required column of the contract is absent
UNKNOWN_SOURCE = "unknown_source"  # landed under a folder that names no contract

# Row-level reasons.
MALFORMED_ROW = "malformed_row"  # wrong number of fields, a truncated last line, an unterminated quote
DUPLICATE_ROW = "duplicate_row"  # byte-identical copy of a row already loaded for the same key
MISSING_KEY = "missing_key"  # a key or required column is empty
INVALID_TYPE = "invalid_type"  # a value cannot be read as its contract type (number, boolean)
INVALID_DATE = "invalid_date"  # a date or timestamp cannot be parsed
FUTURE_DATE = "future_date"  # a date later than the load time
INVALID_VALUE = "invalid_value"  # not one of the allowed values of an enumeration
OUT_OF_RANGE = "out_of_range"  # a score outside its own row's scale, or an inverted scale
UNKNOWN_LABEL = "unknown_label"  # a competency label the mapping seed does not know
UNKNOWN_RATING_WORD = "unknown_rating_word"  # a rating word the rating seed does not know
ORPHAN_REFERENCE = "orphan_reference"  # a foreign key that resolves to nothing loaded so far
FIELD_TOO_LONG = "field_too_long"  # a single field beyond the contract's size limit
FORMULA_INJECTION = "formula_injection"  # a text cell that a spreadsheet would execute (=, +, -, @ ...)
UNREADABLE_DOCUMENT = "unreadable_document"  # a resume file a row points to is missing or cannot be read

FILE_REASONS = frozenset({EMPTY_FILE, UNREADABLE_FILE, MISSING_COLUMNS, UNKNOWN_SOURCE})
ROW_REASONS = frozenset(
    {
        MALFORMED_ROW,
        DUPLICATE_ROW,
        MISSING_KEY,
        INVALID_TYPE,
        INVALID_DATE,
        FUTURE_DATE,
        INVALID_VALUE,
        OUT_OF_RANGE,
        UNKNOWN_LABEL,
        UNKNOWN_RATING_WORD,
        ORPHAN_REFERENCE,
        FIELD_TOO_LONG,
        FORMULA_INJECTION,
        UNREADABLE_DOCUMENT,
    }
)
ALL_REASONS = FILE_REASONS | ROW_REASONS
