"""Talent-pool profile helpers: scores and tags of one candidate, the transcript moments behind them, and the
access-log entry every profile view writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dashboards import session

if TYPE_CHECKING:
    from dashboards.app_state import User
    from dashboards.ui import PageContext

# The dbt var('strong_score_threshold') behind the marts' is_strong_<competency> flags and strong_<code> tags.
STRONG_SCORE = 0.75


def log_profile_view(user: User, candidate_key: str) -> None:
    """Write who looked at which candidate's profile, from this page, now (every render of a profile is a view)."""
    session.app_state().log_access(user.username, "talent_pool", "view_profile", candidate_key=candidate_key)


def profile_scores(row: pd.Series, competencies: list[str]) -> dict[str, float | None]:
    """Competency code -> the latest interview's normalised score (None if not scored)."""
    out = {}
    for code in competencies:
        value = row.get(f"score_{code}")
        out[code] = None if value is None or pd.isna(value) else float(value)
    return out


def timestamp(seconds: float | None) -> str:
    """Seconds into the recording as m:ss (h:mm:ss past an hour)."""
    if seconds is None or pd.isna(seconds):
        return "–"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def strength_tags(row: pd.Series, ctx: PageContext) -> list[str]:
    """The candidate's score tags ('strong_<competency>' in the mart) in the reader's language."""
    tags = [t.strip() for t in str(row.get("tags") or "").split(",")]
    return [ctx.t("tag.strong", competency=ctx.competency(t.removeprefix("strong_"))) for t in tags if t]


def keyword_tags(evidence: pd.DataFrame | None, ctx: PageContext) -> list[tuple[str, pd.DataFrame]]:
    """One transcript tag per competency the candidate's words evidence, with the moments behind it."""
    if evidence is None or evidence.empty:
        return []
    out = []
    for code, rows in evidence.groupby("competency_code", sort=True):
        keywords = ", ".join(dict.fromkeys(str(k) for k in rows["keyword"]))
        out.append((ctx.t("tag.keyword", competency=ctx.competency(code), keywords=keywords, n=len(rows)), rows))
    return out


def display_tags(tags: str | None, ctx: PageContext) -> str:
    """'strong_communication,strong_teamwork' as 'Communication, Teamwork' in the reader's language."""
    codes = [t.strip().removeprefix("strong_") for t in str(tags or "").split(",") if t.strip()]
    return ", ".join(ctx.competency(c) for c in codes)


def moments(evidence: pd.DataFrame) -> pd.DataFrame:
    """One row per keyword hit: the competency it evidences, the keyword, the question and the time in the video."""
    out = evidence.copy()
    out["timestamp"] = out["start_s"].map(timestamp)
    cols = ["competency_code", "keyword", "question_id", "timestamp", "snippet", "segment_no"]
    return out[[c for c in cols if c in out.columns]]
