"""Guard: no emotion, face or voice-tone feature is ever a model input (prohibited in hiring in some jurisdictions)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Matched against column names normalised to lower case with every non-alphanumeric run turned into "_";
# "(?:^|_)" anchors stop "face" from matching "interface" or "surface".
PROHIBITED_FEATURE_PATTERNS: tuple[str, ...] = (
    r"emotion",
    r"sentiment_face",
    r"(?:^|_)(?:face|voice|speech|audio|video|vocal)_sentiment",
    r"facial",
    r"(?:^|_)face(?:_|$)",
    r"voice_tone",
    r"tone_of_voice",
    r"(?:^|_)vocal",
    r"voice_pitch",
    r"voice_stress",
    r"prosod",
    r"(?:^|_)affect",
    r"micro_?expression",
    r"eye_contact",
    r"(?:^|_)gaze",
    r"(?:^|_)smil",
    r"(?:^|_)mood(?:_|$)",
)


class ProhibitedFeatureError(ValueError):
    """Raised when a model input column looks like an emotion, face or voice-tone feature."""


def _normalise_name(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def prohibited_columns(columns: Iterable[object]) -> dict[str, str]:
    """Map each prohibited column name to the first pattern it matches."""
    hits: dict[str, str] = {}
    for col in columns:
        norm = _normalise_name(col)
        for pattern in PROHIBITED_FEATURE_PATTERNS:
            if re.search(pattern, norm):
                hits[str(col)] = pattern
                break
    return hits


def assert_no_prohibited_features(columns: Iterable[object]) -> None:
    """Raise ProhibitedFeatureError if any column name matches PROHIBITED_FEATURE_PATTERNS."""
    hits = prohibited_columns(columns)
    if hits:
        detail = ", ".join(f"{col!r} (matches {pat!r})" for col, pat in hits.items())
        raise ProhibitedFeatureError(
            f"emotion, face and voice-tone features must never be model inputs; refused: {detail}"
        )
