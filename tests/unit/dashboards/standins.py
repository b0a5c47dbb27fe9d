"""A dashboards test home: a copy of a built world's published snapshot, its own app store, and stand-ins for the
model outputs that are not published yet.

The stand-ins follow the ml.* contracts the pages read (see dashboards/queries.py), carry model_version 'stand-in',
and are only added where the real table is missing: once the models publish a table, the tests read the real one.
Most are built from the snapshot's own marts. The review desk's six tables are the real
ml.pipeline.recommendation_tables run on a generated world with one job family per case the desk shows
(recommended and flagged, recommended, keep_current, insufficient_evidence); that world's applicant pool replaces
marts.applicant_pool in the copy, so the desk's what-if scores edits on the applicants the stand-ins were fitted on.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ingestion.settings import Settings

STAND_IN = "stand-in"
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
    if not set(REVIEW_TABLES) <= have:
        replace_review_tables(snapshot)
        added += [name for name in REVIEW_TABLES if name not in have]
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


# The review desk's world: one job family per case the desk must show, generated from a small law (latent
# competencies, scores with rater noise, hiring on the current composite, outcomes from a planted performance) and
# run through the real ml.pipeline.recommendation_tables, so every figure the desk shows is the model's own.
#   keep_current: no signal; female applicants score lower on communication, so the current weights already
#       select them at under four-fifths (existing impact);
#   insufficient_evidence: too few hires (also every family past the fourth);
#   recommended: performance rides on problem_solving; female applicants score lower on customer_orientation and
#       higher on learning_agility, which the step lowers alike (no flag), so only an edit toward
#       customer_orientation is flagged;
#   flagged: performance rides on logical_thinking, where female applicants score lower (higher on teamwork), so
#       the step toward it lowers their selection impact ratio below four-fifths, with evidence.
# (applicants, performance loadings on the competencies in marts order, female shift per competency)
REVIEW_CASES = {
    "keep_current": (2000, (0, 0, 0, 0, 0, 0), {"communication": -0.6}),
    "insufficient_evidence": (300, (0.3, 0, 0, 0, 0, 0), {}),
    "recommended": (3000, (0.1, 0, 0, 0.6, 0, 0), {"customer_orientation": -0.4, "learning_agility": 0.4}),
    "flagged": (3000, (0.1, 0.6, 0, 0, 0, 0), {"logical_thinking": -0.6, "teamwork": 0.4}),
}
REVIEW_AS_OF = pd.Timestamp("2025-09-01")
# Wide enough that a flagged step and a several-cycle path to the target both show up in a small world.
REVIEW_MAX_CHANGE = 0.2
REVIEW_BOOTSTRAP = 10
REVIEW_TABLES = (
    "recommendations",
    "recommendation_weights",
    "recommendation_validity",
    "fairness_gate",
    "tradeoff_front",
    "recommendation_moments",
)


def _family_world(rng, family, n, beta, shift, current, competencies, first_key):
    k = len(competencies)
    gender = rng.choice(["female", "male", "unknown"], n, p=[0.48, 0.48, 0.04])
    ethnicity = rng.choice(["asian", "black", "white", "hispanic_latino", "unknown"], n, p=[0.2, 0.2, 0.35, 0.2, 0.05])
    z = rng.normal(size=(n, k))
    for code, d in shift.items():
        if code in competencies:
            z[gender == "female", competencies.index(code)] += d
    x = np.clip(0.5 + 0.12 * (z + rng.normal(scale=0.4, size=z.shape)), 0, 1)
    w = np.array([current[c] for c in competencies])
    composite = x @ (w / w.sum())
    hired = composite + rng.normal(scale=0.01, size=n) >= np.quantile(composite, 0.75)
    pool = pd.DataFrame(
        {
            "candidate_key": [f"{STAND_IN}-{first_key + i:06d}" for i in range(n)],
            "job_family": family,
            "interview_id": [f"{STAND_IN}-iv-{first_key + i:06d}" for i in range(n)],
            "requisition_id": [f"{STAND_IN}-{family}-req-{j}" for j in rng.integers(0, 4, n)],
            "started_at": pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 600, n), "D"),
            "composite_score": composite,
            "gender": gender,
            "ethnicity": ethnicity,
            "hired": hired,
            **{f"score_{c}": x[:, i] for i, c in enumerate(competencies)},
        }
    )
    h = pool[hired].copy()
    m = len(h)
    loadings = np.array([beta[i] if i < len(beta) else 0.0 for i in range(k)])
    perf = z[hired] @ loadings + rng.normal(scale=0.8, size=m)
    h["hire_date"] = h["started_at"] + pd.Timedelta(days=30)
    h["employee_key"] = [f"{STAND_IN}-e-{family}-{i}" for i in range(m)]
    for period in ("rating_3m", "rating_6m", "rating_12m"):
        h[period] = np.clip(0.5 + 0.2 * (perf + rng.normal(scale=0.5, size=m)), 0, 1)
    end = h["hire_date"] + pd.to_timedelta(np.ceil(rng.exponential(1 / (0.0008 * np.exp(-0.5 * perf)))), "D")
    left = (end < REVIEW_AS_OF).to_numpy()
    h["termination_date"] = end.where(left)
    h["termination_type"] = np.where(left, "voluntary", None)
    h["tenure_days"] = (h["termination_date"].fillna(REVIEW_AS_OF) - h["hire_date"]).dt.days
    year_done = (h["hire_date"] + pd.Timedelta(days=365) <= REVIEW_AS_OF).to_numpy()
    h["is_retained_12m"] = pd.array(np.where(year_done, h["tenure_days"] >= 365, None), dtype="boolean")
    h["count_complaints"] = rng.poisson(0.002 * h["tenure_days"].to_numpy())
    h["complaints_per_1000_days"] = 1000 * h["count_complaints"] / h["tenure_days"].where(h["tenure_days"] > 0)
    h["as_of_date"] = REVIEW_AS_OF
    return h, pool


@functools.cache
def review_world(
    families: tuple[str, ...], competencies: tuple[str, ...], weights: tuple[tuple[float, ...], ...], seed: int = 5
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(the six review tables from ml.pipeline.recommendation_tables, the applicant pool) for `families`, whose
    current weights are `weights` (one row per family, competencies in order). Cases go to families in
    REVIEW_CASES order; cached, so a test session fits the world once."""
    from ml.pipeline import recommendation_tables

    rng = np.random.default_rng(seed)
    cases = list(REVIEW_CASES)
    cases += ["insufficient_evidence"] * max(len(families) - len(cases), 0)
    current = {f: dict(zip(competencies, w, strict=True)) for f, w in zip(families, weights, strict=True)}
    hires, pools, first = [], [], 0
    for i, family in enumerate(families):
        n, beta, shift = REVIEW_CASES[cases[i]]
        h, p = _family_world(rng, family, n, beta, shift, current[family], list(competencies), first)
        first += n
        hires.append(h)
        pools.append(p)
    pool = pd.concat(pools, ignore_index=True)
    tables = recommendation_tables(
        pd.concat(hires, ignore_index=True),
        pool,
        current,
        list(competencies),
        STAND_IN,
        max_change=REVIEW_MAX_CHANGE,
        n_bootstrap=REVIEW_BOOTSTRAP,
    )
    return tables, pool


def _review_tables(con, families: pd.DataFrame, competencies: list[str]) -> tuple[dict, pd.DataFrame]:
    weights = tuple(
        tuple(float(getattr(fam, f"weight_{c}") or 0) or 1 / len(competencies) for c in competencies)
        for fam in families.itertuples()
    )
    return review_world(tuple(families["job_family"]), tuple(competencies), weights)


def replace_review_tables(snapshot: Path) -> None:
    """Put the generated review world in the snapshot copy: the six review tables and, so that the desk's what-if
    scores edits on the pool the stand-in recommendations were fitted on, marts.applicant_pool."""
    with duckdb.connect(str(snapshot)) as con:
        families = con.execute("select * from marts.job_families order by job_family").df()
        competencies = [c.removeprefix("weight_") for c in families.columns if c.startswith("weight_")]
        tables, pool = _review_tables(con, families, competencies)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for name in REVIEW_TABLES:
            con.execute(f"drop table if exists ml.{name}")
            frame = tables[name].assign(model_version=STAND_IN, fitted_at=now)
            con.register("_standin", frame)
            con.execute(f"create table ml.{name} as select * from _standin")
            con.unregister("_standin")
        con.execute("drop table if exists marts.applicant_pool")
        con.register("_pool", pool)
        con.execute("create table marts.applicant_pool as select * from _pool")
        con.unregister("_pool")


def ensure_reviewable(snapshot: Path) -> bool:
    """Make sure the review desk has every case to show: a flagged and an unflagged 'recommended' family, a
    'keep_current' and an 'insufficient_evidence' one, with the trade-off front and the moments.

    A small world gives the real model too little evidence for most of them; then the review tables and the
    applicant pool of this copy are replaced by the generated review world. Returns True if it had to."""
    with duckdb.connect(str(snapshot)) as con:
        have = existing(con, "ml")
        if set(REVIEW_TABLES) <= have:
            rows = con.execute("select status, flagged from ml.recommendations").fetchall()
            cases = {(s, bool(f)) for s, f in rows}
            wanted = {("recommended", True), ("recommended", False)}
            if wanted <= cases and {s for s, _ in rows} >= {"keep_current", "insufficient_evidence"}:
                return False
    replace_review_tables(snapshot)
    return True
