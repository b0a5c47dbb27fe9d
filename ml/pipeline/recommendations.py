"""ml.recommendations, ml.recommendation_weights, ml.recommendation_validity and ml.fairness_gate: recommended
weights per job family, their validity against the alternatives, and their adverse impact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ml.fairness import (
    DEFAULT_GATE_BOOT,
    FOUR_FIFTHS,
    INTERSECTION_SEP,
    UNKNOWN,
    adverse_impact_table,
    composite_scores,
    gate_change,
    rate_table,
    simulate_selection,
)
from ml.pipeline.contracts import (
    DEFAULT_BLEND_SHARES,
    DEFAULT_BOOTSTRAP,
    DEFAULT_CV_SPLITS,
    DEFAULT_EARLY_LEAVER_POLICY,
    DEFAULT_MAX_CHANGE,
    DEFAULT_OUTCOME_MIX,
    DIMENSION_NAMES,
    _json,
    conform,
)
from ml.pipeline.frames import _scores, prepare_hires
from ml.tradeoff import tradeoff_front
from ml.weights import DEFAULT_MIN_HIRES, STATUS_RECOMMENDED, recommend_weights


def next_quarter_start(day) -> dt.date:
    """First day of the calendar quarter after the one `day` falls in: weights change at quarter boundaries."""
    day = pd.Timestamp(day).date()
    first_month = 3 * ((day.month - 1) // 3) + 1
    year, month = (day.year + 1, 1) if first_month == 10 else (day.year, first_month + 3)
    return dt.date(year, month, 1)


def _recommendation_id(job_family: str, version: str) -> str:
    return f"{job_family}@{version}"


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns={"group": "group_label"})
    out["dimension"] = out["dimension"].map(DIMENSION_NAMES).fillna(out["dimension"])
    return out


def fairness_gate_table(
    pool: pd.DataFrame,
    current: Mapping[str, float],
    recommended: Mapping[str, float] | None,
    competencies: Sequence[str],
    selection_rate: float,
    strata_col: str | None = None,
    n_boot: int = DEFAULT_GATE_BOOT,
    seed: int = 0,
) -> tuple[pd.DataFrame, list[dict], bool, bool]:
    """The fairness gate of one family: impact under the current and the recommended weights, and the change.

    pool: the family's applicant pool with bare competency columns, sex and ethnicity (and strata_col, e.g.
    requisition_id, within which selection is simulated). Returns (table, flags, flagged, existing_impact):
    - table: selection rows per weighting (ml.fairness.rate_table under the audit's rule: reference floor,
      Katz interval, adjusted test, `impact_flag`) with, on the recommended rows, the paired change from the
      current weights (ml.fairness.gate_change: change, change_ci_low/high, p_lowered, p_adjusted_change,
      lowered_below_baseline = lowered with evidence, flag = lowered and below four-fifths); and scoring rows
      (share above the median composite) per weighting under the same rule.
    - flags: {kind, weighting, metric, dimension, group, message_key, message_params} for every flag: a lowered
      ratio, existing impact under the current weights, impact under the recommended ones.
    - flagged: a lowered ratio needs an explicit sign-off; existing_impact: the current weights already show it.
    """
    frames, flags = [], []
    if recommended is None:
        composite = composite_scores(pool, current, competencies)
        strata = pool[strata_col] if strata_col else None
        selected = simulate_selection(composite, selection_rate, strata)
        impact = adverse_impact_table(
            pool.assign(_selected=selected.astype(float), _composite=composite), "_selected", "_composite"
        ).assign(weighting="current")
        impact = impact.rename(columns={"flag": "impact_flag"})
        impact["baseline_impact_ratio"] = impact["impact_ratio"]
        impact["lowered_below_baseline"] = False
        impact["flag"] = False
        flagged_rows = impact[impact["impact_flag"].astype(bool)]
        flags = [
            {
                "kind": "existing_impact",
                "weighting": "current",
                "metric": r.metric,
                "dimension": r.dimension,
                "group": r.group,
                "message_key": r.message_key,
                "message_params": r.message_params,
            }
            for r in flagged_rows.itertuples(index=False)
        ]
        table = _labelled(impact)
        return table, _named_flags(flags), False, bool(len(flags))
    gate = gate_change(pool, current, recommended, competencies, selection_rate, strata_col, n_boot, seed)
    impact = gate.impact.assign(weighting=gate.impact["weighting"].replace({"proposed": "recommended"}))
    impact = impact.rename(columns={"flag": "impact_flag"})
    changes = gate.changes.rename(columns={"p_adjusted": "p_adjusted_change", "flag": "change_flag"})
    base = changes[["dimension", "group", "current_impact_ratio"]].rename(
        columns={"current_impact_ratio": "baseline_impact_ratio"}
    )
    impact = impact.merge(base, on=["dimension", "group"], how="left")
    change_cols = [
        "change",
        "change_ci_low",
        "change_ci_high",
        "p_lowered",
        "p_adjusted_change",
        "lowered",
        "change_flag",
    ]
    impact = impact.merge(changes[["dimension", "group", *change_cols]], on=["dimension", "group"], how="left")
    is_rec = impact["weighting"] == "recommended"
    impact["lowered_below_baseline"] = is_rec & impact["lowered"].astype("boolean").fillna(False).astype(bool)
    impact["flag"] = is_rec & impact["change_flag"].astype("boolean").fillna(False).astype(bool)
    for col in change_cols:
        impact.loc[~is_rec, col] = np.nan if col not in ("lowered", "change_flag") else False
    impact = impact.drop(columns=["lowered", "change_flag"])
    frames.append(impact)
    for name, weights in (("current", current), ("recommended", recommended)):
        composite = composite_scores(pool, weights, competencies)
        scoring = adverse_impact_table(pool.assign(_composite=composite), None, "_composite").assign(weighting=name)
        frames.append(scoring.rename(columns={"flag": "impact_flag"}))
    table = pd.concat(frames, ignore_index=True)
    table["metric"] = table["metric"].fillna("selection")
    # Every row's baseline is the same group's ratio under the current weights, for its own metric.
    base = table[table["weighting"] == "current"][["metric", "dimension", "group", "impact_ratio"]]
    table = table.drop(columns=["baseline_impact_ratio"]).merge(
        base.rename(columns={"impact_ratio": "baseline_impact_ratio"}), on=["metric", "dimension", "group"], how="left"
    )
    for col in ("flag", "lowered_below_baseline"):
        table[col] = table[col].astype("boolean").fillna(False).astype(bool)
    table = _labelled(table)
    flags = gate.flags.to_dict("records")
    return table, _named_flags(flags), bool(gate.flagged), bool(gate.existing_impact)


def _named_flags(flags: list[dict]) -> list[dict]:
    out = []
    for f in flags:
        f = dict(f)
        f["dimension"] = DIMENSION_NAMES.get(f.get("dimension"), f.get("dimension"))
        if f.get("weighting") == "proposed":
            f["weighting"] = "recommended"
        out.append(f)
    return out


def _weighting_vectors(rec, competencies: Sequence[str], blend_shares: Sequence[float]) -> dict[str, np.ndarray]:
    """The weightings the desk compares: current, recommended (this cycle's step), unit, validity_max (the
    evidence-optimal target) and target/unit blends."""
    k = len(competencies)
    unit = np.full(k, 1.0 / k)
    w = rec.weights.set_index("competency").loc[list(competencies)]
    out = {
        "current": w["current"].to_numpy(),
        "recommended": w["recommended"].to_numpy(),
        "unit": unit,
        "validity_max": w["target"].to_numpy(),
    }
    for share in blend_shares:
        out[f"blend_{round(share * 100)}"] = share * out["validity_max"] + (1 - share) * unit
    return out


def _validity_rows(
    rec,
    pool: pd.DataFrame,
    competencies: Sequence[str],
    selection_rate: float,
    blend_shares: Sequence[float],
) -> pd.DataFrame:
    """Validity vs adverse impact per weighting: out-of-sample r on hires the fit never saw (with its interval and
    the paired difference from the current and the unit weights), and the smallest impact ratio (known groups of
    5+) the weights fitted on all hires would give."""
    oos = rec.validity.set_index("weighting") if rec.validity is not None and len(rec.validity) else pd.DataFrame()
    oos = oos.rename(index={"target": "validity_max"})
    comparisons = rec.comparisons if rec.comparisons is not None else pd.DataFrame()
    if len(comparisons):
        comparisons = comparisons.assign(weighting=comparisons["weighting"].replace({"target": "validity_max"}))
    rows = []
    for name, weights in _weighting_vectors(rec, competencies, blend_shares).items():
        impact = rate_table(
            pool.assign(
                _sel=simulate_selection(
                    composite_scores(pool, dict(zip(competencies, weights, strict=True)), competencies),
                    selection_rate,
                ).astype(float)
            ),
            "_sel",
            ("sex", "ethnicity"),
        )
        known = impact[(impact["n"] >= 5) & ~impact["group"].str.split(INTERSECTION_SEP).map(lambda p: UNKNOWN in p)]
        known = known.dropna(subset=["impact_ratio"])
        worst = known.loc[known["impact_ratio"].idxmin()] if len(known) else None
        row = {
            "weighting": name,
            "holdout_r": float(oos.loc[name, "holdout_r"]) if name in oos.index else np.nan,
            "holdout_n": int(oos.loc[name, "holdout_n"]) if name in oos.index else 0,
            "holdout_ci_low": float(oos.loc[name, "ci_low"]) if name in oos.index else np.nan,
            "holdout_ci_high": float(oos.loc[name, "ci_high"]) if name in oos.index else np.nan,
            "min_impact_ratio": float(worst["impact_ratio"]) if worst is not None else np.nan,
            "min_impact_ratio_group": (
                f"{DIMENSION_NAMES.get(worst['dimension'], worst['dimension'])}={worst['group']}"
                if worst is not None
                else None
            ),
            "n_groups_below_four_fifths": int((known["impact_ratio"] < FOUR_FIFTHS).sum()),
            "weights": _json({c: round(float(v), 4) for c, v in zip(competencies, weights, strict=True)}),
        }
        for base in ("current", "unit"):
            match = (
                comparisons[(comparisons["weighting"] == name) & (comparisons["baseline"] == base)]
                if len(comparisons)
                else comparisons
            )
            hit = match.iloc[0] if len(match) else None
            row[f"gain_vs_{base}"] = float(hit["difference"]) if hit is not None else np.nan
            row[f"gain_vs_{base}_ci_low"] = float(hit["ci_low"]) if hit is not None else np.nan
            row[f"gain_vs_{base}_ci_high"] = float(hit["ci_high"]) if hit is not None else np.nan
            row[f"gain_vs_{base}_p"] = float(hit["p_value"]) if hit is not None else np.nan
            row[f"beats_{base}"] = bool(hit["beats"]) if hit is not None else None
        rows.append(row)
    return pd.DataFrame(rows)


# The feasible cloud is drawn from every 10th lattice weighting; front and named weightings are always kept, so
# ~300 + front rows a family are written a night instead of 3,003.
CLOUD_EVERY = 10


def _thin_front(front: pd.DataFrame) -> pd.DataFrame:
    keep = front["on_front"] | (front["weighting"] != "lattice") | (np.arange(len(front)) % CLOUD_EVERY == 0)
    return front[keep].reset_index(drop=True)


def _moment_rows(rec, competencies: Sequence[str]) -> pd.DataFrame:
    """rec.moments as long rows (kind, row, col, value, n): 'criterion' is the y row/column; the desk scores an
    edited weighting from these without refitting."""
    names = [*competencies, "criterion"]
    rows = []
    for kind, m in rec.moments.items():
        k = len(competencies)
        C = np.zeros((k + 1, k + 1))
        C[:k, :k] = m["S"]
        C[:k, k] = C[k, :k] = m["c"]
        C[k, k] = m["var_y"]
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                rows.append({"kind": kind, "row_code": a, "col_code": b, "value": float(C[i, j]), "n": int(m["n"])})
    return pd.DataFrame(rows)


def recommendation_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    current_weights: Mapping[str, Mapping[str, float]],
    competencies: Sequence[str],
    version: str,
    as_of=None,
    outcome_mix: Mapping[str, float] | None = None,
    min_hires: int = DEFAULT_MIN_HIRES,
    max_change: float = DEFAULT_MAX_CHANGE,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    n_splits: int = DEFAULT_CV_SPLITS,
    early_leaver_policy: str = DEFAULT_EARLY_LEAVER_POLICY,
    blend_shares: Sequence[float] = DEFAULT_BLEND_SHARES,
    seed: int = 0,
    gate_boot: int = DEFAULT_GATE_BOOT,
) -> dict[str, pd.DataFrame]:
    """ml.recommendations, ml.recommendation_weights, ml.recommendation_validity, ml.fairness_gate,
    ml.tradeoff_front (validity vs lowest impact ratio over feasible weightings) and ml.recommendation_moments.

    One recommendation per job family (every family with hires or weights on record), identified as
    '<job_family>@<version>'. A family with fewer than min_hires hires with complete scores and outcomes is
    'insufficient_evidence': it gets its count and the count needed, its current-weights fairness baseline, and
    no weights, validity or recommended-weights impact, ever. A fitted family is 'recommended' when its step beats
    the current weights and its target beats unit weights out of sample, 'keep_current' otherwise; both carry
    the evidence (target, step, intervals, out-of-sample validity and gains), so the desk can show why.
    """
    outcome_mix = dict(DEFAULT_OUTCOME_MIX if outcome_mix is None else outcome_mix)
    h = prepare_hires(hires, competencies)
    pool_all = _scores(applicants, competencies).rename(columns={"gender": "sex"})
    if as_of is None:
        as_of = (
            h["as_of_date"].max() if "as_of_date" in h.columns and h["as_of_date"].notna().any() else dt.date.today()
        )
    families = sorted(set(h["job_family"].dropna()) | set(current_weights), key=str)
    recs, weights, validity, gates, fronts, moments = [], [], [], [], [], []
    for family in families:
        rec_id = _recommendation_id(family, version)
        fam = h[h["job_family"] == family]
        pool = pool_all[(pool_all["job_family"] == family) & pool_all[list(competencies)].notna().all(axis=1)]
        current = dict(current_weights.get(family) or dict.fromkeys(competencies, 1.0 / len(competencies)))
        rec = recommend_weights(
            fam,
            competencies,
            outcome_mix,
            current,
            date_col="hire_date",
            min_hires=min_hires,
            max_change=max_change,
            n_splits=n_splits,
            n_bootstrap=n_bootstrap,
            seed=seed,
            early_leaver_policy=early_leaver_policy,
            blend_shares=blend_shares,
            applicant_cov=np.cov(pool[list(competencies)].to_numpy(dtype=float).T) if len(pool) > 2 else None,
        )
        if family not in current_weights:
            rec.notes.append("no current weights on record; unit weights used as the current weights")
        ok = rec.fitted
        selection_rate = float(pool["hired"].astype(float).mean()) if len(pool) else float("nan")
        gate, flags, flagged, existing = pd.DataFrame(), [], False, False
        if len(pool) and np.isfinite(selection_rate):
            gate, flags, flagged, existing = fairness_gate_table(
                pool,
                current,
                rec.column("recommended") if ok else None,
                competencies,
                selection_rate,
                strata_col="requisition_id" if "requisition_id" in pool.columns else None,
                n_boot=gate_boot,
                seed=seed,
            )
            gate = gate.assign(recommendation_id=rec_id, job_family=family, selection_rate=selection_rate)
            gates.append(gate)
        flagged_groups = sorted(
            {f"{f['metric']}:{f['dimension']}={f['group']}" for f in flags if f["kind"] == "lowered"}
        )
        row = {
            "recommendation_id": rec_id,
            "job_family": family,
            "status": rec.status,
            "n_hires_with_outcomes": rec.n_available,
            "n_needed": rec.n_needed,
            "outcome_mix": _json(outcome_mix),
            "lambda": rec.lam if ok else np.nan,
            "max_change": max_change,
            "flagged": flagged,
            "existing_impact": existing,
            "flags": _json(flags),
            "flagged_groups": _json(flagged_groups),
            "effective_from_suggested": next_quarter_start(as_of) if rec.status == STATUS_RECOMMENDED else None,
            "cycles_to_target": rec.cycles_to_target,
            "early_leaver_policy": early_leaver_policy,
            "criterion_counts": _json(rec.criterion),
            "recommendation_version": version,
            "n_applicants": len(pool),
            "selection_rate": selection_rate,
            "holdout_start": rec.holdout_start,
            "notes": _json(rec.notes),
        }
        if ok:
            tradeoff = _validity_rows(rec, pool, competencies, selection_rate, blend_shares)
            validity.append(tradeoff.assign(recommendation_id=rec_id, job_family=family))
            by_name = tradeoff.set_index("weighting")
            row.update(
                {f"holdout_r_{k}": by_name["holdout_r"].get(k, np.nan) for k in ("current", "recommended", "unit")}
            )
            row["holdout_r_target"] = by_name["holdout_r"].get("validity_max", np.nan)
            for key in ("gain_vs_current", "gain_vs_current_ci_low", "gain_vs_current_ci_high", "gain_vs_unit"):
                row[key] = by_name[key].get("recommended", np.nan)
            row["target_gain_vs_unit"] = by_name["gain_vs_unit"].get("validity_max", np.nan)
            w = rec.weights.rename(
                columns={
                    "competency": "competency_code",
                    "current": "current_weight",
                    "recommended": "recommended_weight",
                    "estimate": "estimate_weight",
                    "validity_max": "validity_max_weight",
                    "target": "target_weight",
                }
            )
            weights.append(w.assign(recommendation_id=rec_id, job_family=family))
            moments.append(_moment_rows(rec, competencies).assign(recommendation_id=rec_id, job_family=family))
            if len(pool) and np.isfinite(selection_rate):
                named = {
                    name: dict(zip(competencies, vec, strict=True))
                    for name, vec in _weighting_vectors(rec, competencies, ()).items()
                }
                front = tradeoff_front(pool, competencies, rec.moments, selection_rate, named)
                fronts.append(_thin_front(front).assign(recommendation_id=rec_id, job_family=family))
        recs.append(row)

    def _stack(frames, name):
        return conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), name)

    return {
        "recommendations": _stack([pd.DataFrame(recs)] if recs else [], "recommendations"),
        "recommendation_weights": _stack(weights, "recommendation_weights"),
        "recommendation_validity": _stack(validity, "recommendation_validity"),
        "fairness_gate": _stack(gates, "fairness_gate"),
        "tradeoff_front": _stack(fronts, "tradeoff_front"),
        "recommendation_moments": _stack(moments, "recommendation_moments"),
    }
