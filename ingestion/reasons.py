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

# Input limits (ingestion/readers.py Limits): a whole landed file, or one document a resume row points to.
PATH_OUTSIDE_LANDING = "path_outside_landing"  # an absolute path, a '..' part or a symlink leading out of landing/
FILE_TOO_LARGE = "file_too_large"  # bigger on disk than the limit for its kind
EXPANDS_TOO_LARGE = "expands_too_large"  # an xlsx/docx/parquet whose uncompressed size or ratio is over the limit
TOO_MANY_PAGES = "too_many_pages"  # a PDF with more pages than the limit
PARSE_TIMEOUT = "parse_timeout"  # a document whose parse ran past the time limit (the parser was killed)

# A limit applies to a landed file (file-level) and to a resume's document (row-level): one code for both.
LIMIT_REASONS = frozenset({PATH_OUTSIDE_LANDING, FILE_TOO_LARGE, EXPANDS_TOO_LARGE, TOO_MANY_PAGES, PARSE_TIMEOUT})
FILE_REASONS = frozenset({EMPTY_FILE, UNREADABLE_FILE, MISSING_COLUMNS, UNKNOWN_SOURCE}) | LIMIT_REASONS
ROW_REASONS = (
    frozenset(
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
    | LIMIT_REASONS
)
ALL_REASONS = FILE_REASONS | ROW_REASONS
