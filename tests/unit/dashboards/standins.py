"""A dashboards test home: a copy of a built world's published snapshot, its own app store, and stand-ins for the
model outputs that are not published yet.

The stand-ins follow the ml.* contracts the pages read (see dashboards/queries.py), are built from the snapshot's own
marts, carry model_version 'stand-in', and are only added where the real table is missing: once the models publish
a table, the tests read the real one. They let the tests drive every page's full path, including a 'recommended'
and fairness-flagged recommendation on the review desk, whatever the small world's evidence is.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ingestion.settings import Settings

STAND_IN = "stand-in"
FLAG_TEXT = "Selection impact ratio for female falls from 0.86 to 0.74: below four-fifths and below its baseline."
KEYWORDS = {
    "communication": ("explain", "I would explain the trade-off to the customer before we commit."),
    "logical_thinking": ("step by step", "I went through it step by step and checked each assumption."),
    "teamwork": ("colleague", "A colleague and I split the work and reviewed each other's part."),
    "problem_solving": ("root cause", "We traced the root cause to a data import that ran twice."),
    "customer_orientation": ("listen", "First I listen to what the client actually needs."),
    "learning_agility": ("learn", "I had to learn the new system in a week, so I took a course."),
}


def make_home(built: Settings, dest: Path, *, standins: bool = True) -> Settings:
    """A new data home at `dest` whose published snapshot is a copy of `built`'s (plus stand-ins if asked)."""
    source = built.current_snapshot()
    assert source is not None, "the built world has no published snapshot"
    settings = Settings(home=dest).ensure()
    settings.published.mkdir(parents=True, exist_ok=True)
    target = settings.published / source.name
    shutil.copyfile(source, target)
    (settings.published / "CURRENT").write_text(target.name + "\n")
    if standins:
        add_missing_ml_tables(target)
    return settings


def existing(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = con.execute("select table_name from information_schema.tables where table_schema = ?", [schema]).fetchall()
    return {r[0] for r in rows}


def drop_ml_tables(snapshot: Path, keep: tuple[str, ...] = ("rater_agreement", "model_runs")) -> None:
    """Remove every ml table but `keep`: the snapshot as it was before the models landed."""
    with duckdb.connect(str(snapshot)) as con:
        for name in existing(con, "ml") - set(keep):
            con.execute(f'drop table ml."{name}"')


def add_missing_ml_tables(snapshot: Path) -> list[str]:
    """Write stand-ins for the ml tables the snapshot lacks; returns their names."""
    with duckdb.connect(str(snapshot)) as con:
        con.execute("create schema if not exists ml")
        have = existing(con, "ml")
        hires = con.execute("select * from marts.hires").df()
        families = con.execute("select * from marts.job_families order by job_family").df()
        competencies = [c.removeprefix("weight_") for c in families.columns if c.startswith("weight_")]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        tables = {
            "validity": lambda: _validity(hires, competencies),
            "turnover_km": lambda: _turnover_km(hires),
            "turnover_cox": lambda: _turnover_cox(hires),
            "complaint_model": lambda: _complaint_model(hires),
            "keyword_evidence": lambda: _keyword_evidence(con.execute("select * from marts.talent_pool").df()),
        }
        review = _review_tables(con, hires, families, competencies)
        tables.update({name: (lambda frame=frame: frame) for name, frame in review.items()})
        added = []
        for name, build in tables.items():
            if name in have:
                continue
            frame = build()
            frame["model_version"] = STAND_IN
            frame["fitted_at"] = now
            con.register("_standin", frame)
            con.execute(f"create table ml.{name} as select * from _standin")
            con.unregister("_standin")
            added.append(name)
        return added


def _fisher(r: float, n: int) -> tuple[float, float]:
    if n <= 3 or r is None or not np.isfinite(r) or abs(r) >= 1:
        return (math.nan, math.nan)
    z, se = math.atanh(r), 1.96 / math.sqrt(n - 3)
    return math.tanh(z - se), math.tanh(z + se)


def _validity(hires: pd.DataFrame, competencies: list[str]) -> pd.DataFrame:
    rows = []
    outcomes = {"rating_6m": hires["rating_6m"], "retained_12m": hires["is_retained_12m"].astype("float")}
    for family, part in hires.groupby("job_family"):
        for outcome, values in outcomes.items():
            y = values.loc[part.index]
            for code in competencies:
                pair = pd.concat([part[f"score_{code}"], y], axis=1).dropna()
                n = len(pair)
                r = float(pair.iloc[:, 0].corr(pair.iloc[:, 1])) if n > 2 else math.nan
                low, high = _fisher(r, n)
                rows.append(
                    {
                        "job_family": family,
                        "competency_code": code,
                        "outcome": outcome,
                        "n": n,
                        "r": r,
                        "ci_low": low,
                        "ci_high": high,
                        "r_range_corrected": r * 1.25 if np.isfinite(r) else r,
                        "r_operational": r * 1.4 if np.isfinite(r) else r,
                        "ci_low_operational": low * 1.4,
                        "ci_high_operational": high * 1.4,
                    }
                )
    return pd.DataFrame(rows)


def _km(part: pd.DataFrame) -> list[tuple[float, float, float, float, int, int]]:
    durations = part["tenure_days"].to_numpy(dtype=float)
    events = (part["termination_type"] == "voluntary").to_numpy()
    out, survival, greenwood = [(0.0, 1.0, 1.0, 1.0, len(part), 0)], 1.0, 0.0
    for t in np.unique(durations[events]):
        at_risk = int((durations >= t).sum())
        d = int(((durations == t) & events).sum())
        survival *= 1 - d / at_risk
        if at_risk > d:
            greenwood += d / (at_risk * (at_risk - d))
        half = 1.96 * survival * math.sqrt(greenwood)
        out.append((float(t), survival, max(survival - half, 0.0), min(survival + half, 1.0), at_risk, d))
    return out


def _turnover_km(hires: pd.DataFrame) -> pd.DataFrame:
    rows = []
    scored = hires[hires["score_band"] != "unscored"]
    for family, by_family in [("all", scored), *scored.groupby("job_family")]:
        for band, part in by_family.groupby("score_band"):
            for t, s, low, high, at_risk, d in _km(part):
                rows.append(
                    {
                        "job_family": family,
                        "score_band": band,
                        "time_days": t,
                        "survival": s,
                        "ci_low": low,
                        "ci_high": high,
                        "at_risk": at_risk,
                        "events": d,
                    }
                )
    return pd.DataFrame(rows)


def _turnover_cox(hires: pd.DataFrame) -> pd.DataFrame:
    n, events = len(hires), int((hires["termination_type"] == "voluntary").sum())
    terms = [
        ("composite_score_per_0.1", 0.86, 0.74, 0.99, 0.04),
        ("score_band_high", 0.71, 0.48, 1.05, 0.09),
        ("rating_3m", 0.64, 0.41, 0.99, 0.045),
    ]
    return pd.DataFrame(
        [
            {
                "scope": "all",
                "term": term,
                "hazard_ratio": hr,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": p,
                "ph_p_value": 0.42,
                "ph_ok": True,
                "n": n,
                "n_events": events,
                "concordance_train": 0.62,
                "concordance_holdout": 0.59,
                "note": STAND_IN,
            }
            for term, hr, lo, hi, p in terms
        ]
    )


def _complaint_model(hires: pd.DataFrame) -> pd.DataFrame:
    terms = [
        ("composite_score_per_0.1", 0.82, 0.69, 0.97, 0.02),
        ("score_customer_orientation_per_0.1", 0.77, 0.63, 0.94, 0.01),
        ("job_family_sales", 1.35, 0.9, 2.02, 0.15),
    ]
    return pd.DataFrame(
        [
            {
                "scope": "all",
                "term": term,
                "rate_ratio": rr,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": p,
                "model": "negative_binomial",
                "dispersion": 1.3,
                "n": len(hires),
            }
            for term, rr, lo, hi, p in terms
        ]
    )


def _keyword_evidence(pool: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in pool[pool["tags"] != ""].head(400).itertuples():
        for i, tag in enumerate(str(r.tags).split(",")):
            code = tag.removeprefix("strong_")
            if code not in KEYWORDS:
                continue
            keyword, snippet = KEYWORDS[code]
            rows.append(
                {
                    "interview_id": r.latest_interview_id,
                    "candidate_key": r.candidate_key,
                    "competency_code": code,
                    "keyword": keyword,
                    "question_id": f"Q{i + 2}",
                    "segment_no": 3 + 4 * i,
                    "start_s": 75.0 + 95 * i,
                    "snippet": snippet,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "interview_id",
            "candidate_key",
            "competency_code",
            "keyword",
            "question_id",
            "segment_no",
            "start_s",
            "snippet",
        ],
    )


def _review_tables(con, hires: pd.DataFrame, families: pd.DataFrame, competencies: list[str]) -> dict:
    """recommendations, recommendation_weights, recommendation_validity, fairness_gate, consistent with each other."""
    counts = hires.groupby("job_family")["rating_6m"].count().reindex(families["job_family"], fill_value=0)
    # The family with the least evidence gets "insufficient evidence"; the first recommended one is flagged.
    thinnest = counts.sort_values(kind="stable").index[0]
    recommended = [f for f in families["job_family"] if f != thinnest]
    flagged_family = recommended[0]
    effective = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)
    recs, weights, validity, gate = [], [], [], []
    impact = con.execute(
        "select job_family, dimension, group_label, n, n_passed, selection_rate, reference_group, impact_ratio, "
        "is_below_four_fifths from marts.adverse_impact where stage_name = 'overall' and not is_suppressed"
    ).df()
    shifts = [0.05, -0.05, 0.03, -0.03, 0.0, 0.0]
    for fam in families.itertuples():
        rec_id = f"{STAND_IN}-{fam.job_family}"
        status = "recommended" if fam.job_family in recommended else "insufficient_evidence"
        flagged = fam.job_family == flagged_family
        recs.append(
            {
                "recommendation_id": rec_id,
                "job_family": fam.job_family,
                "status": status,
                "n_hires_with_outcomes": int(counts[fam.job_family]),
                "n_needed": 30,
                "outcome_mix": json.dumps({"rating_12m": 0.5, "rating_6m": 0.2, "retained_12m": 0.3}),
                "flagged": flagged,
                "flags": json.dumps([FLAG_TEXT] if flagged else []),
                "flagged_groups": json.dumps(["female"] if flagged else []),
                "effective_from_suggested": effective,
            }
        )
        current = np.array([float(getattr(fam, f"weight_{c}") or 0) for c in competencies])
        current = current / current.sum() if current.sum() else np.full(len(competencies), 1 / len(competencies))
        proposal = np.clip(current + np.array(shifts[: len(competencies)]), 0, None)
        proposal = proposal / proposal.sum()
        for code, cur, new in zip(competencies, current, proposal, strict=True):
            weights.append(
                {
                    "recommendation_id": rec_id,
                    "job_family": fam.job_family,
                    "competency_code": code,
                    "current_weight": cur,
                    "recommended_weight": new if status == "recommended" else None,
                    "ci_low": max(new - 0.06, 0),
                    "ci_high": min(new + 0.06, 1),
                    "change": new - cur,
                    "at_cap": abs(new - cur) >= 0.05,
                }
            )
        lowest = 0.74 if flagged else 0.84
        for weighting, r, mir in (("current", 0.21, 0.86), ("recommended", 0.27, lowest), ("unit", 0.19, 0.88)):
            validity.append(
                {
                    "recommendation_id": rec_id,
                    "job_family": fam.job_family,
                    "weighting": weighting,
                    "holdout_r": r,
                    "holdout_n": int(counts[fam.job_family]),
                    "min_impact_ratio": mir,
                }
            )
        groups = impact[impact["job_family"] == fam.job_family]
        for weighting in ("current", "recommended"):
            for metric in ("selection", "scoring"):
                for g in groups.itertuples():
                    ratio = float(g.impact_ratio)
                    lowered = flagged and weighting == "recommended" and g.group_label == "female"
                    if lowered:
                        ratio = 0.74
                    gate.append(
                        {
                            "recommendation_id": rec_id,
                            "job_family": fam.job_family,
                            "weighting": weighting,
                            "metric": metric,
                            "dimension": g.dimension.replace(" × ", "_x_"),
                            "group_label": g.group_label,
                            "n": int(g.n),
                            "n_positive": int(g.n_passed),
                            "rate": float(g.selection_rate),
                            "reference_group": g.reference_group,
                            "impact_ratio": ratio,
                            "below_four_fifths": ratio < 0.8,
                            "test": "fisher_exact",
                            "p_value": 0.03 if lowered else 0.4,
                            "significant": lowered,
                            "small_group": int(g.n) < 30,
                            "baseline_impact_ratio": float(g.impact_ratio),
                            "lowered_below_baseline": lowered,
                        }
                    )
    return {
        "recommendations": pd.DataFrame(recs),
        "recommendation_weights": pd.DataFrame(weights),
        "recommendation_validity": pd.DataFrame(validity),
        "fairness_gate": pd.DataFrame(gate),
    }


REVIEW_TABLES = ("recommendations", "recommendation_weights", "recommendation_validity", "fairness_gate")


def ensure_reviewable(snapshot: Path) -> bool:
    """Make sure the review desk has a 'recommended' and a flagged 'recommended' job family to decide on.

    A small world may give the real model too little evidence for any recommendation; then the four review tables
    of this copy are replaced by stand-ins. Returns True if it had to replace them.
    """
    with duckdb.connect(str(snapshot)) as con:
        have = existing(con, "ml")
        if "recommendations" in have:
            rows = con.execute("select status, flagged from ml.recommendations").fetchall()
            if any(s == "recommended" and f for s, f in rows) and any(s == "recommended" and not f for s, f in rows):
                return False
        for name in REVIEW_TABLES:
            con.execute(f"drop table if exists ml.{name}")
    add_missing_ml_tables(snapshot)
    return True
