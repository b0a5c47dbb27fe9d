"""How often the adverse-impact rules of ml/fairness.py raise a false alarm, and how often they catch a real one.

Applicant pools follow the sample-data generator's shares (ingestion/generator/params.py): gender female .47 /
male .47 / nonbinary .015 / blank .045; ethnicity of those who answer (.22, .14, .18, .36, .05, .05) in
vocab.ETHNICITIES order, left blank by 8-90% of applicants depending on their region; requisitions of 40 applicants
in one region each (90% of applicants live there). Six competency latents correlate .3; each observed score adds
N(0, .55) measurement noise (the generator's AI rater noise). Selection takes the top 25% of each requisition by
composite + judgement noise (SD .125 of the composite's SD, the generator's .02 on a .16-SD composite).
A planted adverse impact shifts one group's latents by -d, with d calibrated on 400,000 applicants so that the
group's population impact ratio (its selection rate over that of the unaffected groups) is the target.

Family runs (item 3): adverse_impact_table(pool, "hired", "composite") -- both metrics, sex, ethnicity and
sex x ethnicity, as the pipeline calls it -- and every candidate decision rule read off the same table.
Gate runs (item 4): gate_change on the same pool, current vs proposed weights, paired bootstrap and delta method.

Run standalone (about 10 minutes on 2 cores):
    .venv/bin/python -m tests.benchmarks.stats.fairness_sim --seeds 400 --gate-seeds 200 --jobs 2
writes tests/benchmarks/results/fairness_sim.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ingestion.generator import params
from ingestion.generator.vocab import ETHNICITIES, GENDERS, REGIONS
from ml.fairness import (
    DEFAULT_ADJUST,
    FOUR_FIFTHS,
    INTERSECTION_SEP,
    PERMUTATION_METHODS,
    adjust_pvalues,
    adverse_impact_table,
    gate_change,
    simulate_selection,
)

ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "tests" / "benchmarks" / "results" / "fairness_sim.json"
COMPETENCIES = [f"c{i}" for i in range(1, 7)]
UNIT = {c: 1 / 6 for c in COMPETENCIES}
ALPHA = 0.05
# 400,000 applicants put the calibrated population impact ratio within about +-.005 (one SE) of its target.
CALIBRATION_N = 400_000


@dataclass(frozen=True)
class PoolSpec:
    n_applicants: int = 1200
    req_size: int = params.APPLICANTS_PER_REQUISITION
    selection_rate: float = params.SELECTION_TOP_SHARE
    latent_corr: float = params.LATENT_CORRELATION
    noise_sd: float = params.AI_NOISE_SD
    # Judgement noise in composite-SD units: the generator's .02 on a composite whose SD is about .16.
    selection_noise: float = params.SELECTION_NOISE_SD / 0.16


@dataclass(frozen=True)
class Shift:
    """Latent mean shift -d for members of `label` in column `col` ('sex' or 'ethnicity') on `competencies`."""

    col: str
    label: str
    d: float
    competencies: tuple[str, ...] = tuple(COMPETENCIES)
    # The population impact ratio d was calibrated to (NaN if none), for the interval's coverage.
    target: float = float("nan")


def make_pool(rng: np.random.Generator, spec: PoolSpec, shift: Shift | None = None) -> pd.DataFrame:
    """One family's applicants: sex, ethnicity, region, requisition, c1..c6 observed scores, composite, hired."""
    n, size = spec.n_applicants, spec.req_size
    n_req = math.ceil(n / size)
    req = np.repeat(np.arange(n_req), size)[:n]
    req_region = rng.choice(len(REGIONS), size=n_req, p=params.REGION_SHARES)
    region = np.where(
        rng.random(n) < params.CANDIDATE_IN_REQ_REGION,
        req_region[req],
        rng.choice(len(REGIONS), size=n, p=params.REGION_SHARES),
    )
    sex = np.asarray(["female", "male", "nonbinary", ""])[rng.choice(4, size=n, p=params.GENDER_SHARES)]
    assert tuple(GENDERS) == ("female", "male", "nonbinary", "")
    answered = np.asarray(ETHNICITIES[:-1])[rng.choice(6, size=n, p=params.ETHNICITY_SHARES)]
    blank_rate = np.asarray([params.ETHNICITY_BLANK_BY_REGION[r] for r in REGIONS])[region]
    ethnicity = np.where(rng.random(n) < blank_rate, "", answered)
    k = len(COMPETENCIES)
    cov = np.full((k, k), spec.latent_corr) + (1 - spec.latent_corr) * np.eye(k)
    latent = rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    if shift is not None:
        member = (sex if shift.col == "sex" else ethnicity) == shift.label
        cols = [COMPETENCIES.index(c) for c in shift.competencies]
        latent[np.ix_(member, cols)] -= shift.d
    observed = latent + spec.noise_sd * rng.standard_normal((n, k))
    df = pd.DataFrame(observed, columns=COMPETENCIES)
    df["sex"], df["ethnicity"], df["region"], df["requisition"] = sex, ethnicity, np.asarray(REGIONS)[region], req
    composite = observed.mean(axis=1)
    df["composite"] = composite
    judged = composite + spec.selection_noise * composite.std() * rng.standard_normal(n)
    df["hired"] = simulate_selection(judged, spec.selection_rate, req).astype(int)
    return df


def _population_ratio(pool: pd.DataFrame, col: str, label: str, selected: np.ndarray) -> float:
    """Selection rate of `label` over that of the other known groups of `col` (all alike in the population)."""
    g = pool[col].to_numpy()
    known = (g != "") & (g != "nonbinary") if col == "sex" else g != ""
    return float(selected[g == label].mean() / selected[known & (g != label)].mean())


def calibrate(spec: PoolSpec, col: str, label: str, target: float, weights=None, competencies=None, seed=12345):
    """d giving population impact ratio `target` (bisection on common random numbers), and the check on a fresh
    pool. weights=None: the family mechanism (top share per requisition by unit composite + judgement noise);
    else the gate mechanism (top share of the whole pool by that weighting, no noise)."""
    big = PoolSpec(**{**asdict(spec), "n_applicants": CALIBRATION_N})
    comps = tuple(competencies or COMPETENCIES)

    def ratio(d: float, rng_seed: int) -> float:
        pool = make_pool(np.random.default_rng(rng_seed), big, Shift(col, label, d, comps))
        if weights is None:
            sel = pool["hired"].to_numpy().astype(bool)
        else:
            comp = pool[COMPETENCIES].to_numpy() @ np.asarray([weights[c] for c in COMPETENCIES])
            sel = simulate_selection(comp, spec.selection_rate)
        return _population_ratio(pool, col, label, sel)

    lo, hi = 0.0, 2.0
    for _ in range(22):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid, seed) > target else (lo, mid)
    d = (lo + hi) / 2
    return d, ratio(d, seed + 1)


# ---------------------------------------------------------------- family runs (item 3)


def _rules(table: pd.DataFrame, legacy: pd.DataFrame, permuted: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Flag masks over `table`'s rows for each candidate rule (legacy: over the legacy table's rows; permutation
    rules: over the same rows, from the tables built with that adjustment)."""
    ratio = table["impact_ratio"].to_numpy(float)
    below = np.nan_to_num(ratio, nan=np.inf) < FOUR_FIFTHS
    testable = (table["eligible"] & (table["group"] != table["reference_group"]) & table["p_test"].notna()).to_numpy()
    p1 = np.where(testable, table["p_test"].to_numpy(float), np.nan)
    p2 = np.where(testable, table["p_value"].to_numpy(float), np.nan)
    m = int(testable.sum())
    lo, hi = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = (np.log(hi) - np.log(lo)) / (2 * stats.norm.ppf(0.975))
        bonf_upper = np.exp(np.log(ratio) + stats.norm.ppf(1 - ALPHA / max(m, 1)) * se)
    selection = (table["metric"] == "selection").to_numpy()
    p1_sel = np.where(selection, p1, np.nan)

    def sig(p, method):
        adj = adjust_pvalues(p, method)
        return np.isfinite(adj) & (adj < ALPHA)

    out = {
        "raw_two_sided": testable & below & (np.nan_to_num(p2, nan=1) < ALPHA),
        "raw_one_sided": testable & below & (np.nan_to_num(p1, nan=1) < ALPHA),
        "ci_upper_below_1": testable & below & (np.nan_to_num(hi, nan=np.inf) < 1),
        "bonferroni_ci_upper_below_1": testable & below & (np.nan_to_num(bonf_upper, nan=np.inf) < 1),
        "holm_two_sided": testable & below & sig(p2, "holm"),
        "holm_one_sided": testable & below & sig(p1, "holm"),
        "bh_one_sided": testable & below & sig(p1, "bh"),
        "holm_one_sided_selection_only": testable & below & sig(p1_sel, "holm"),
    }
    for method, t in permuted.items():
        assert t["group"].tolist() == table["group"].tolist()
        out[f"{method}_one_sided"] = t["flag"].to_numpy(bool)
        p_adj = np.nan_to_num(t["p_adjusted"].to_numpy(float), nan=1.0)
        out[f"{method}_one_sided_alpha_0.10"] = testable & below & (p_adj < 0.10)
    known = ~legacy["is_unknown"].to_numpy(bool)
    legacy_flag = legacy["below_four_fifths"].to_numpy(bool) & legacy["significant"].to_numpy(bool) & known
    out["legacy_ref5_raw_p"] = legacy_flag
    out["legacy_ref5_raw_p_n20"] = legacy_flag & (legacy["n"].to_numpy() >= 20)
    return out


def _row_keys(table: pd.DataFrame) -> list[str]:
    return [f"{m}|{d}|{g}" for m, d, g in zip(table["metric"], table["dimension"], table["group"], strict=True)]


def family_run(args) -> dict:
    """One seed of one family scenario: per rule, the keys of the flagged rows; plus the planted row's ratio."""
    scenario, seed, spec, shift, strata = args
    rng = np.random.default_rng([seed, zlib.crc32(scenario.encode())])
    pool = make_pool(rng, spec, shift)
    strata_col = "requisition" if strata else None
    # The library default (its own adjustment) and both permutation adjustments on the same permutations.
    table = adverse_impact_table(pool, "hired", "composite", strata_col=strata_col)
    permuted = {
        m: table
        if m == DEFAULT_ADJUST
        else adverse_impact_table(pool, "hired", "composite", strata_col=strata_col, adjust=m)
        for m in PERMUTATION_METHODS
    }
    legacy = adverse_impact_table(pool, "hired", "composite", min_reference_n=5, min_reference_share=0.0, adjust=None)
    rules = _rules(table, legacy, permuted)
    keys, legacy_keys = _row_keys(table), _row_keys(legacy)
    out = {
        "flags": {
            r: [k for k, f in zip(legacy_keys if r.startswith("legacy") else keys, mask, strict=True) if f]
            for r, mask in rules.items()
        },
        "n_tests": int(table["n_tests"].iloc[0]),
    }
    if strata:
        eligible = table["eligible"] & (table["group"] != table["reference_group"])
        out["simpson"] = int(table.loc[eligible, "simpson_warning"].sum())
        out["simpson_rows"] = int(eligible.sum())
        out["cmh_p_below_alpha"] = int((table.loc[eligible, "cmh_p"] < ALPHA).sum())
    if shift is not None:
        dim = shift.col if shift.col == "sex" else "ethnicity"
        row = table[(table["metric"] == "selection") & (table["dimension"] == dim) & (table["group"] == shift.label)]
        out["planted_ratio"] = float(row["impact_ratio"].iloc[0])
        out["planted_ci_covers"] = bool(row["ci_low"].iloc[0] <= shift.target <= row["ci_high"].iloc[0])
    return out


def _planted_key(shift: Shift, metric: str = "selection") -> str:
    return f"{metric}|{shift.col if shift.col == 'sex' else 'ethnicity'}|{shift.label}"


def _affected(key: str, shift: Shift | None) -> bool:
    return shift is not None and shift.label in key.split("|")[2].split(INTERSECTION_SEP)


def summarize_family(runs: list[dict], shift: Shift | None) -> dict:
    n = len(runs)
    rules = list(runs[0]["flags"])
    out = {"seeds": n, "mean_n_tests": float(np.mean([r["n_tests"] for r in runs])), "rules": {}}
    for rule in rules:
        flagged = [r["flags"][rule] for r in runs]
        false = [[k for k in f if not _affected(k, shift)] for f in flagged]
        per_group: dict[str, int] = {}
        for f in false:
            for k in set(f):
                per_group[k] = per_group.get(k, 0) + 1
        worst = max(per_group.items(), key=lambda kv: kv[1]) if per_group else (None, 0)
        entry = {
            "family_false_alarm_rate": sum(bool(f) for f in false) / n,
            "max_per_group_false_flag_rate": worst[1] / n,
            "max_per_group_false_flag_group": worst[0],
            "mean_false_flags_per_run": float(np.mean([len(f) for f in false])),
        }
        if shift is not None:
            sel, sco = _planted_key(shift), _planted_key(shift, "scoring")
            entry["power_selection_row"] = sum(sel in f for f in flagged) / n
            entry["power_either_metric"] = sum(sel in f or sco in f for f in flagged) / n
        out["rules"][rule] = entry
    if shift is not None:
        ratios = np.array([r["planted_ratio"] for r in runs])
        out["planted_observed_ratio_mean"] = float(np.nanmean(ratios))
        out["planted_observed_ratio_below_four_fifths"] = float(np.mean(ratios < FOUR_FIFTHS))
        out["planted_katz_ci_coverage"] = float(np.mean([r["planted_ci_covers"] for r in runs]))
    if "simpson" in runs[0]:
        rows = sum(r["simpson_rows"] for r in runs)
        out["simpson_warning_rate_per_row"] = sum(r["simpson"] for r in runs) / rows
        out["simpson_warning_family_rate"] = float(np.mean([r["simpson"] > 0 for r in runs]))
        out["cmh_p_below_alpha_per_row"] = sum(r["cmh_p_below_alpha"] for r in runs) / rows
    return out


# ---------------------------------------------------------------- gate runs (item 4)

# Current weights put little on c1, the proposal more (+.15, against ml.weights' default cap of .10 a step: the
# lowering has to be large enough to take a ratio from >= .85 to .75).
GATE_CURRENT = {"c1": 0.10, **{c: 0.18 for c in COMPETENCIES[1:]}}
GATE_PROPOSED = {"c1": 0.25, **{c: 0.15 for c in COMPETENCIES[1:]}}
# Existing impact, no change: c1 carries the group difference under both; the proposal swaps c2 and c3, which
# carry none, so both weightings have the same population ratio (the latents are exchangeable) but select
# different people.
SWAP_CURRENT = {"c1": 0.30, "c2": 0.25, "c3": 0.05, "c4": 0.14, "c5": 0.13, "c6": 0.13}
SWAP_PROPOSED = {**SWAP_CURRENT, "c2": 0.05, "c3": 0.25}


def _legacy_gate_flag(pool: pd.DataFrame, current, proposed, rate: float) -> bool:
    """The pipeline's old rule: proposed ratio below its current-weights value and four-fifths, raw p < .05 vs
    a reference of n >= 5, known group of n >= 20, on the selection or the scoring metric."""
    tables = {}
    for name, w in (("current", current), ("proposed", proposed)):
        comp = pool[COMPETENCIES].to_numpy() @ np.asarray([w[c] for c in COMPETENCIES])
        frame = pool.assign(_sel=simulate_selection(comp, rate).astype(float), _comp=comp)
        tables[name] = adverse_impact_table(
            frame, "_sel", "_comp", min_reference_n=5, min_reference_share=0.0, adjust=None
        )
    key = ["metric", "dimension", "group"]
    both = tables["proposed"].merge(
        tables["current"][[*key, "impact_ratio"]], on=key, suffixes=("", "_current"), how="left"
    )
    flag = (
        (both["impact_ratio"] < both["impact_ratio_current"] - 1e-12)
        & (both["impact_ratio"] < FOUR_FIFTHS)
        & both["significant"]
        & (both["n"] >= 20)
        & ~both["is_unknown"]
    )
    return bool(flag.any())


def gate_run(args) -> dict:
    scenario, seed, spec, shift, current, proposed, n_boot, strata = args
    rng = np.random.default_rng([seed, zlib.crc32(scenario.encode())])
    pool = make_pool(rng, spec, shift)
    out = {}
    for method in ("bootstrap", "delta"):
        res = gate_change(
            pool,
            current,
            proposed,
            COMPETENCIES,
            spec.selection_rate,
            strata_col="requisition" if strata else None,
            n_boot=n_boot,
            seed=seed,
            method=method,
        )
        ch = res.changes
        flagged_groups = [f"{d}|{g}" for d, g, f in zip(ch["dimension"], ch["group"], ch["flag"], strict=True) if f]
        tested = ch["p_lowered"].notna()
        entry = {
            "flagged": res.flagged,
            "flag_groups": flagged_groups,
            "existing_impact": res.existing_impact,
            "n_tested": int(tested.sum()),
            "n_unadjusted_p_below_alpha": int((ch.loc[tested, "p_lowered"] < ALPHA).sum()),
            "n_unadjusted_lowered_and_below_four_fifths": int(
                ((ch["p_lowered"] < ALPHA) & (ch["proposed_impact_ratio"] < FOUR_FIFTHS) & tested).sum()
            ),
        }
        if shift is not None:
            dim = shift.col if shift.col == "sex" else "ethnicity"
            row = ch[(ch["dimension"] == dim) & (ch["group"] == shift.label)].iloc[0]
            entry.update(
                planted_flag=bool(row["flag"]),
                planted_current=float(row["current_impact_ratio"]),
                planted_proposed=float(row["proposed_impact_ratio"]),
                planted_z=float(row["log_ratio_change"] / row["log_ratio_se"]),
            )
        out[method] = entry
    out["legacy_flagged"] = _legacy_gate_flag(pool, current, proposed, spec.selection_rate)
    return out


def summarize_gate(runs: list[dict], shift: Shift | None) -> dict:
    n = len(runs)
    out = {"seeds": n, "legacy_rule_flag_rate": sum(r["legacy_flagged"] for r in runs) / n}
    for method in ("bootstrap", "delta"):
        rs = [r[method] for r in runs]
        false = [
            [g for g in r["flag_groups"] if shift is None or shift.label not in g.split("|")[1].split(INTERSECTION_SEP)]
            for r in rs
        ]
        per_group: dict[str, int] = {}
        for f in false:
            for g in f:
                per_group[g] = per_group.get(g, 0) + 1
        entry = {
            "proposal_flag_rate": sum(r["flagged"] for r in rs) / n,
            "false_flag_proposal_rate": sum(bool(f) for f in false) / n,
            "max_per_group_false_flag_rate": max(per_group.values(), default=0) / n,
            "existing_impact_rate": sum(r["existing_impact"] for r in rs) / n,
            # Calibration of the change test itself: share of tested groups with unadjusted one-sided p < .05
            # (about .05 under no lowering if the standard error is right), and of proposals where some group
            # would flag without the adjustment over groups.
            "unadjusted_test_size_per_group": sum(r["n_unadjusted_p_below_alpha"] for r in rs)
            / max(1, sum(r["n_tested"] for r in rs)),
            "proposal_flag_rate_without_group_adjustment": sum(
                r["n_unadjusted_lowered_and_below_four_fifths"] > 0 for r in rs
            )
            / n,
            "mean_groups_tested": sum(r["n_tested"] for r in rs) / n,
        }
        if shift is not None:
            entry["detection_rate"] = sum(r["planted_flag"] for r in rs) / n
            entry["planted_current_ratio_mean"] = float(np.mean([r["planted_current"] for r in rs]))
            entry["planted_proposed_ratio_mean"] = float(np.mean([r["planted_proposed"] for r in rs]))
            entry["planted_mean_z"] = float(np.nanmean([r["planted_z"] for r in rs]))
        out[method] = entry
    return out


# ---------------------------------------------------------------- analytic ceiling


def single_test_power(
    n: int, share: float, ref_share: float, ratio: float, rate: float = 0.25, alpha: float = ALPHA
) -> float:
    """Power of ONE pre-specified one-sided pooled z test of the group against a comparator group, unadjusted
    (normal approximation; the other applicants share the comparator's rate): what no family-wise rule that
    also has to choose its reference and test every group can exceed."""
    r_ref = rate / (share * ratio + 1 - share)
    r_g = ratio * r_ref
    n_g, n_r = n * share, n * ref_share
    pooled = (r_g * n_g + r_ref * n_r) / (n_g + n_r)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_g + 1 / n_r))
    se1 = math.sqrt(r_g * (1 - r_g) / n_g + r_ref * (1 - r_ref) / n_r)
    return float(stats.norm.cdf(((r_ref - r_g) - stats.norm.ppf(1 - alpha) * se0) / se1))


def _map(fn, tasks, jobs):
    if jobs <= 1:
        return [fn(t) for t in tasks]
    with ProcessPoolExecutor(jobs) as ex:
        return list(ex.map(fn, tasks, chunksize=max(1, len(tasks) // (4 * jobs))))


def family_scenarios(spec: PoolSpec) -> list[tuple[str, PoolSpec, Shift | None, bool]]:
    """(name, pool spec, planted shift, stratified?) for the family runs, shifts calibrated."""
    out = [
        ("null_1200", spec, None, True),
        ("null_300", PoolSpec(**{**asdict(spec), "n_applicants": 300}), None, False),
        ("null_4800", PoolSpec(**{**asdict(spec), "n_applicants": 4800}), None, False),
    ]
    for col, label in (("sex", "female"), ("ethnicity", "white"), ("ethnicity", "asian")):
        for target in (0.75, 0.80):
            d, check = calibrate(spec, col, label, target)
            out.append((f"ir{target:.2f}_{label}_1200", spec, Shift(col, label, d, target=target), False))
            _CALIBRATION[out[-1][0]] = {"target": target, "d": d, "check_population_ratio": check}
    for n in (2400, 4800):
        big = PoolSpec(**{**asdict(spec), "n_applicants": n})
        for label, col in (("female", "sex"), ("white", "ethnicity")):
            d = _CALIBRATION[f"ir0.75_{label}_1200"]["d"]
            out.append((f"ir0.75_{label}_{n}", big, Shift(col, label, d, target=0.75), False))
    return out


_CALIBRATION: dict[str, dict] = {}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400, help="family runs per scenario")
    ap.add_argument("--gate-seeds", type=int, default=200, help="gate runs per scenario")
    ap.add_argument("--n-boot", type=int, default=400)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    t0 = time.time()
    spec = PoolSpec()
    result = {
        "description": __doc__.split("\n\n")[0],
        "pool": asdict(spec),
        "alpha": ALPHA,
        "seeds_family": a.seeds,
        "seeds_gate": a.gate_seeds,
        "n_boot": a.n_boot,
        "family": {},
        "gate": {},
    }
    for name, sp, shift, strata in family_scenarios(spec):
        runs = _map(family_run, [(name, s, sp, shift, strata) for s in range(a.seeds)], a.jobs)
        result["family"][name] = {"n_applicants": sp.n_applicants, **summarize_family(runs, shift)}
        if name in _CALIBRATION:
            result["family"][name]["calibration"] = _CALIBRATION[name]
        print(f"{name}: {time.time() - t0:.0f}s", flush=True)
        _write(a.out, result)

    gate_scenarios = [("gate_null_no_difference", None, GATE_CURRENT, GATE_PROPOSED, None)]
    d_swap, check_swap = calibrate(spec, "sex", "female", 0.78, SWAP_CURRENT, ("c1",))
    gate_scenarios.append(
        (
            "gate_null_existing_impact_female",
            Shift("sex", "female", d_swap, ("c1",)),
            SWAP_CURRENT,
            SWAP_PROPOSED,
            {"target_both": 0.78, "d": d_swap, "check_population_ratio": check_swap},
        )
    )
    for col, label in (("sex", "female"), ("ethnicity", "white")):
        d, check = calibrate(spec, col, label, 0.75, GATE_PROPOSED, ("c1",))
        shift = Shift(col, label, d, ("c1",))
        big = make_pool(np.random.default_rng(777), PoolSpec(**{**asdict(spec), "n_applicants": CALIBRATION_N}), shift)
        comp_c = big[COMPETENCIES].to_numpy() @ np.asarray([GATE_CURRENT[c] for c in COMPETENCIES])
        current_ratio = _population_ratio(big, col, label, simulate_selection(comp_c, spec.selection_rate))
        gate_scenarios.append(
            (
                f"gate_lowering_{label}",
                shift,
                GATE_CURRENT,
                GATE_PROPOSED,
                {"target_proposed": 0.75, "d": d, "check_population_ratio": check, "population_current": current_ratio},
            )
        )
    runs_spec = []
    for name, shift, cur, prop, cal in gate_scenarios:
        runs_spec.append((f"{name}_1200", spec, shift, cur, prop, cal, False))
        if name in ("gate_null_no_difference", "gate_lowering_female"):
            runs_spec.append((f"{name}_1200_within_requisitions", spec, shift, cur, prop, cal, True))
        if name in ("gate_null_existing_impact_female", "gate_lowering_female", "gate_lowering_white"):
            for n in (2400, 4800):
                big = PoolSpec(**{**asdict(spec), "n_applicants": n})
                runs_spec.append((f"{name}_{n}", big, shift, cur, prop, cal, False))
    for key, sp, shift, cur, prop, cal, strata in runs_spec:
        tasks = [(key, s, sp, shift, cur, prop, a.n_boot, strata) for s in range(a.gate_seeds)]
        runs = _map(gate_run, tasks, a.jobs)
        result["gate"][key] = {
            "n_applicants": sp.n_applicants,
            "current": cur,
            "proposed": prop,
            **summarize_gate(runs, shift),
        }
        if cal:
            result["gate"][key]["calibration"] = cal
        print(f"{key}: {time.time() - t0:.0f}s", flush=True)
        _write(a.out, result)

    answer = _answer_share()
    comparisons = {
        "female_vs_male": (params.GENDER_SHARES[0], params.GENDER_SHARES[1]),
        "white_vs_other_stated_ethnicities": (
            params.ETHNICITY_SHARES[3] * answer,
            (1 - params.ETHNICITY_SHARES[3]) * answer,
        ),
        "white_vs_asian": (params.ETHNICITY_SHARES[3] * answer, params.ETHNICITY_SHARES[0] * answer),
    }
    result["single_test_power_one_sided_unadjusted"] = {
        f"{name}_ir{ir:.2f}_n{n}": single_test_power(n, s, r, ir)
        for name, (s, r) in comparisons.items()
        for ir in (0.75, 0.80)
        for n in (1200, 2400, 4800)
    }
    result["summary"] = _summary(result)
    result["seconds"] = round(time.time() - t0, 1)
    result["machine"] = {"python": platform.python_version(), "cores": os.cpu_count(), "jobs": a.jobs}
    _write(a.out, result)
    return result


def _summary(result: dict) -> dict:
    """The headline figures: the library's rules (DEFAULT_ADJUST for impact; the bootstrap and delta gate)."""
    rule = f"{DEFAULT_ADJUST}_one_sided"
    fam, gate = result["family"], result["gate"]
    out = {"impact_rule": rule, "gate_rule": "holm over groups, one-sided, alpha .05, proposed ratio < .8"}
    for name, sc in fam.items():
        e = sc["rules"][rule]
        if name.startswith("null"):
            out[f"{name}_family_false_alarm_rate"] = e["family_false_alarm_rate"]
            out[f"{name}_max_per_group_false_flag_rate"] = e["max_per_group_false_flag_rate"]
        else:
            out[f"{name}_power_selection_row"] = e["power_selection_row"]
    for name, sc in gate.items():
        for method in ("bootstrap", "delta"):
            key = "detection_rate" if "lowering" in name else "proposal_flag_rate"
            out[f"{name}_{method}_{key}"] = sc[method][key]
    return out


def _write(path: Path, result: dict) -> None:
    """Written after every scenario, so a long run's figures so far survive an interruption."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")


def _answer_share() -> float:
    """Share of applicants who state an ethnicity: region shares x (1 - blank rate), 90% living in the region."""
    return float(
        sum(s * (1 - params.ETHNICITY_BLANK_BY_REGION[r]) for s, r in zip(params.REGION_SHARES, REGIONS, strict=True))
    )


if __name__ == "__main__":
    main()
