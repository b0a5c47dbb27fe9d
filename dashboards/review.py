"""The weight review desk's logic: a job family's recommendation with its evidence in plain words, the what-if of an
edited weighting, and recording a decision through the app store (which enforces every rule, the gate included).

One rule for every decision path: the fairness gate's verdict travels with the decision as an
`app_state.GateEvaluation`: the published gate of the recommendation for an approval or a rejection, and for an
edit the verdict of `ml.whatif.evaluate` on exactly the weights typed (the function that judged the
recommendation). The store refuses an edit without the evaluation of its own weights.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

import ml.whatif as whatif
from dashboards import queries
from dashboards.app_state import AppState, Decision, GateEvaluation, evaluation_of, validate_weights
from dashboards.auth import RowScope
from dashboards.i18n import DEFAULT_LANGUAGE, catalogue
from dashboards.ui import SUPPRESSED

# A recommendation's weights are stored rounded; within this distance of 1 they are rescaled to sum to exactly 1, so
# that approving them passes the store's ±1e-6 check. Anything further off is shown as it is and refused there.
RESCALE_TOLERANCE = 1e-3
STATUSES = ("recommended", "keep_current", "insufficient_evidence")
# The weightings the desk names, in the order it shows them; the front's cloud is "lattice".
NAMED_WEIGHTINGS = ("current", "unit", "recommended", "validity_max")
EDIT_DECIMALS = 3
FOUR_FIFTHS = 0.8
DASH = "–"

log = logging.getLogger(__name__)
Translate = Callable[..., str]


@dataclass(frozen=True)
class Recommendation:
    """One job family's recommendation as the desk shows it."""

    recommendation_id: str
    job_family: str
    status: str
    flagged: bool
    flags: tuple[dict, ...]
    n_hires_with_outcomes: int | None
    n_needed: int | None
    outcome_mix: dict
    effective_from_suggested: dt.date | None
    model_version: str | None
    fitted_at: object
    weights: pd.DataFrame = field(repr=False)
    existing_impact: bool = False
    cycles_to_target: int | None = None
    max_change: float | None = None
    selection_rate: float | None = None
    criterion_counts: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def recommended(self) -> bool:
        return self.status == "recommended"

    @property
    def fitted(self) -> bool:
        """The model fitted weights (recommended or keep_current): there is a step, a target and their evidence."""
        return "recommended_weight" in self.weights.columns and self.weights["recommended_weight"].notna().any()

    def current_weights(self) -> dict[str, float]:
        return _weights(self.weights, "current_weight")

    def recommended_weights(self) -> dict[str, float]:
        return _weights(self.weights, "recommended_weight")

    def baseline_weights(self) -> dict[str, float]:
        """What approving would put in effect: the step when recommended, else the current weights (kept)."""
        return self.recommended_weights() if self.recommended else self.current_weights()

    def decisions(self) -> tuple[str, ...]:
        """Approve only what was recommended; keeping the current weights needs no approval."""
        return ("approved", "edited", "rejected") if self.recommended else ("edited", "rejected")


def _weights(frame: pd.DataFrame, column: str) -> dict[str, float]:
    if column not in frame.columns:
        return {}
    values = {
        str(r.competency_code): float(getattr(r, column)) for r in frame.itertuples() if pd.notna(getattr(r, column))
    }
    total = math.fsum(values.values())
    if values and abs(total - 1) <= RESCALE_TOLERANCE and total > 0:
        values = {k: v / total for k, v in values.items()}
    return values


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def number_or_none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _bool(value) -> bool:
    return bool(value) if value is not None and not pd.isna(value) else False


def _date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def parse_flags(value) -> tuple[dict, ...]:
    """The flags column: flag rows (kind, weighting, metric, dimension, group, message_key, message_params); a
    plain text (an older model's) becomes {'text': ...}."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ()
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except (TypeError, ValueError):
        return ({"text": str(value)},)
    if not isinstance(parsed, list):
        parsed = [parsed]
    return tuple(dict(f) if isinstance(f, dict) else {"text": str(f)} for f in parsed)


def load_all() -> pd.DataFrame:
    """Every job family's recommendation row (raises queries.NotAvailable before the models are published)."""
    return queries.recommendations()


def load(job_family: str) -> Recommendation | None:
    """The recommendation of `job_family`, with its weights; None if the model made none for it."""
    rows = queries.recommendations()
    rows = rows[rows["job_family"] == job_family]
    if rows.empty:
        return None
    row = rows.iloc[-1]
    rec_id = str(row["recommendation_id"])
    weights = queries.recommendation_weights(rec_id)
    if weights.empty:
        # No fit (insufficient evidence): the weights in force are the only weights there are.
        weights = queries.weights_in_force(job_family)[["competency_code", "current_weight"]]
    return Recommendation(
        recommendation_id=rec_id,
        job_family=job_family,
        status=str(row["status"]),
        flagged=_bool(row.get("flagged")),
        flags=parse_flags(row.get("flags")),
        n_hires_with_outcomes=_int(row.get("n_hires_with_outcomes")),
        n_needed=_int(row.get("n_needed")),
        outcome_mix=queries.parse_json_object(row.get("outcome_mix")),
        effective_from_suggested=_date(row.get("effective_from_suggested")),
        model_version=row.get("model_version"),
        fitted_at=row.get("fitted_at"),
        weights=weights,
        existing_impact=_bool(row.get("existing_impact")),
        cycles_to_target=_int(row.get("cycles_to_target")),
        max_change=number_or_none(row.get("max_change")),
        selection_rate=number_or_none(row.get("selection_rate")),
        criterion_counts=queries.parse_json_object(row.get("criterion_counts")),
        notes=tuple(queries.parse_json_list(row.get("notes"))),
    )


def default_effective_from(rec: Recommendation, today: dt.date | None = None) -> dt.date:
    """The model's suggested start date, or today if that has passed (the store refuses a date in the past)."""
    today = today or dt.datetime.now(dt.UTC).date()
    suggested = rec.effective_from_suggested
    return suggested if suggested is not None and suggested >= today else today


def edit_defaults(weights: Mapping[str, float], decimals: int = EDIT_DECIMALS) -> dict[str, float]:
    """Weights rounded for typing, the rounding remainder on the largest, so the defaults sum to 1 as typed."""
    if not weights:
        return {}
    rounded = {k: round(float(v), decimals) for k, v in weights.items()}
    largest = max(rounded, key=lambda k: rounded[k])
    rounded[largest] = round(rounded[largest] + 1 - math.fsum(rounded.values()), decimals)
    return rounded


# numbers and words


def signed(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    # A difference that rounds to zero has no direction to show ("-0.00" reads as a loss).
    return f"{0:.{digits}f}" if round(value, digits) == 0 else f"{value:+.{digits}f}"


def plain(value: float | None, digits: int = 2) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def interval(low: float | None, high: float | None, digits: int = 2, *, sign: bool = False) -> str:
    fmt = signed if sign else plain
    if number_or_none(low) is None or number_or_none(high) is None:
        return DASH
    return f"[{fmt(float(low), digits)}, {fmt(float(high), digits)}]"


def percent(value: float | None, digits: int = 1) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:.{digits}%}"


def count(value) -> str:
    n = _int(value)
    return DASH if n is None else f"{n:,}"


def _known(key: str) -> bool:
    # Asking t() would log every probe as a missing key; the English catalogue is the list of keys there are.
    return key in catalogue(DEFAULT_LANGUAGE)


def dimension_name(code: str, t: Translate) -> str:
    key = f"dimension.{code}"
    return t(key) if _known(key) else str(code)


def group_name(label: str, t: Translate) -> str:
    """A group label ("female × asian") in the reader's language, part by part (an unknown part stays)."""
    return " × ".join(t(f"group.{p}") if _known(f"group.{p}") else p for p in str(label).split(" × "))


def weighting_name(code: str, t: Translate) -> str:
    key = f"desk.weighting.{code}"
    return t(key) if _known(key) else str(code)


def flag_text(flag: Mapping, t: Translate) -> str:
    """One flag row as a sentence in the reader's language: every code in it (group, dimension, reference group,
    adjustment method, metric) translated, then ml's own format_flag."""
    if not flag.get("message_key"):
        return str(flag.get("text") or "")
    raw = flag.get("message_params") or "{}"
    params = dict(json.loads(raw) if isinstance(raw, str) else raw)
    for key in ("group", "reference"):
        if key in params:
            params[key] = group_name(params[key], t)
    if "dimension" in params:
        params["dimension"] = dimension_name(params["dimension"], t)
    if "method" in params and _known(f"desk.method.{params['method']}"):
        params["method"] = t(f"desk.method.{params['method']}")
    return whatif.format_flag(flag["message_key"], params, t)


def flag_groups(flags: Sequence[Mapping], t: Translate, kinds: Sequence[str] = ("lowered",)) -> tuple[str, ...]:
    """Names a reason may use to address the flags of `kinds`: each group's code and translation, whole and by part
    (a reason about "Black applicants" addresses "female × black")."""
    names: list[str] = []
    for f in flags:
        if f.get("kind") not in kinds or not f.get("group"):
            continue
        label = str(f["group"])
        for part in (label, *label.split(" × ")):
            names += [part, group_name(part, t)]
    return tuple(dict.fromkeys(n for n in names if n))


def _by_kind(flags: Sequence[Mapping], kind: str) -> list[Mapping]:
    return [f for f in flags if f.get("kind") == kind or (kind == "lowered" and "text" in f)]


@dataclass(frozen=True)
class GateView:
    """The gate's verdict on one weighting, as texts in the reader's language."""

    flagged: bool
    existing_impact: bool
    lowered: tuple[str, ...]
    existing: tuple[str, ...]
    proposed: tuple[str, ...]

    @property
    def texts(self) -> tuple[str, ...]:
        return (*self.lowered, *self.existing, *self.proposed)

    @property
    def clear(self) -> bool:
        """Nothing to warn about: no lowered ratio, no existing impact, no impact under the proposal."""
        return not (self.flagged or self.existing_impact or self.texts)


def gate_view(flags: Sequence[Mapping], flagged: bool, existing_impact: bool, t: Translate) -> GateView:
    return GateView(
        flagged=flagged,
        existing_impact=existing_impact or bool(_by_kind(flags, "existing_impact")),
        lowered=tuple(flag_text(f, t) for f in _by_kind(flags, "lowered")),
        existing=tuple(flag_text(f, t) for f in _by_kind(flags, "existing_impact")),
        proposed=tuple(flag_text(f, t) for f in _by_kind(flags, "proposed_impact")),
    )


def published_gate(rec: Recommendation, t: Translate) -> GateView:
    return gate_view(rec.flags, rec.flagged, rec.existing_impact, t)


def published_evaluation(rec: Recommendation, t: Translate, lang: str) -> GateEvaluation:
    """The recommendation's own gate verdict, for an approval (of its step) or a rejection (of what it proposed)."""
    view = published_gate(rec, t)
    return evaluation_of(
        rec.recommendation_id,
        rec.baseline_weights(),
        flagged=rec.flagged,
        flags=view.texts,
        flagged_groups=flag_groups(rec.flags, t),
        existing_impact=view.existing_impact,
        detail={"source": "published", "status": rec.status, "language": lang, "flag_rows": list(rec.flags)},
    )


# status, in words


# The model's notes are fixed sentences (ml/weights.py); each has a key here so the reader gets it in their language.
_NUM = r"([-+]?\d+(?:\.\d+)?)"
_DIFF = rf" \(difference in r {_NUM}, 95% CI \[{_NUM}, {_NUM}\]\)"
NOTE_PATTERNS: tuple[tuple[re.Pattern, str, tuple[str, ...]], ...] = tuple(
    (re.compile(f"^{pattern}$"), key, names)
    for pattern, key, names in (
        (
            "this cycle's step does not beat the current weights out of sample" + _DIFF,
            "desk.note.step_not_better",
            ("difference", "low", "high"),
        ),
        (
            "the evidence-optimal weights do not beat unit weights out of sample" + _DIFF,
            "desk.note.target_not_better",
            ("difference", "low", "high"),
        ),
        (
            "unit weights still beat this cycle's step; further steps toward the target close it" + _DIFF,
            "desk.note.unit_beats_step",
            ("difference", "low", "high"),
        ),
        ("keep the current weights", "desk.note.keep", ()),
        ("the evidence-optimal weights are the current weights: keep the current weights", "desk.note.at_target", ()),
        ("no out-of-sample comparison was possible: keep the current weights", "desk.note.no_comparison", ()),
        (r"(\d+) hires with complete scores and outcomes; (\d+) needed", "desk.note.too_few", ("n", "needed")),
        ("no variance among hires, so no evidence on: (.+)", "desk.note.no_variance", ("competencies",)),
        ("hire dates too concentrated for a time-ordered holdout; validity not estimated", "desk.note.no_holdout", ()),
        ("no current weights on record; unit weights used as the current weights", "desk.note.no_current", ()),
        ("current weights sum to 0; unit weights used as the current weights", "desk.note.current_zero", ()),
        (rf"current weights summed to {_NUM}; rescaled to 1", "desk.note.current_rescaled", ("total",)),
    )
)


def _rounding(total: str) -> bool:
    # Seed weights of 1/6 sum to 1.0000000002: the model rescales them, which is not news to the reader.
    return abs(float(total) - 1) < 5e-5


def note_text(note: str, t: Translate, competency: Callable[[str], str]) -> str | None:
    """A model note in the reader's language; None for "keep the current weights" (the status already says it)."""
    for pattern, key, names in NOTE_PATTERNS:
        match = pattern.match(note.strip())
        if not match:
            continue
        params = dict(zip(names, match.groups(), strict=True))
        if key == "desk.note.keep" or (key == "desk.note.current_rescaled" and _rounding(params["total"])):
            return None
        if "competencies" in params:
            params["competencies"] = ", ".join(competency(c.strip()) for c in params["competencies"].split(","))
        return t(key, **params)
    log.warning("review desk: no translation for the model note %r", note)
    return note


def step_changes(rec: Recommendation, t: Translate, competency: Callable[[str], str]) -> list[str]:
    """What the step changes, competency by competency, largest move first."""
    rows = rec.weights.dropna(subset=["recommended_weight"]) if rec.fitted else rec.weights.iloc[0:0]
    rows = rows.assign(move=(rows["recommended_weight"] - rows["current_weight"]).abs()).sort_values(
        "move", ascending=False
    )
    lines = []
    for r in rows.itertuples():
        if r.move < 0.0005:
            continue
        key = "desk.status.change_at_cap" if _bool(getattr(r, "at_cap", False)) else "desk.status.change"
        lines.append(
            t(
                key,
                competency=competency(r.competency_code),
                current=percent(r.current_weight),
                step=percent(r.recommended_weight),
                change=signed(100 * (r.recommended_weight - r.current_weight), 1),
            )
        )
    return lines


def criterion_lines(rec: Recommendation, t: Translate) -> list[str]:
    """The insufficient-evidence counts: who counts as evidence, who does not yet, and why."""
    c = rec.criterion_counts
    lines = [t("desk.evidence.hires", n=count(c.get("n_hires", rec.n_hires_with_outcomes)))]
    if c.get("n_window_incomplete"):
        lines.append(t("desk.evidence.window_incomplete", n=count(c["n_window_incomplete"])))
    if c.get("early_leaver_policy") == "exclude":
        lines.append(t("desk.evidence.early_leavers_excluded"))
    else:
        lines.append(t("desk.evidence.early_leavers_floored", n=count(c.get("n_early_leavers_floored", 0))))
    lines.append(t("desk.evidence.missing_rating", n=count(c.get("n_missing_rating", 0))))
    if c.get("n_missing_scores"):
        lines.append(t("desk.evidence.missing_scores", n=count(c["n_missing_scores"])))
    lines.append(
        t(
            "desk.evidence.eligible",
            n=count(c.get("n_eligible", rec.n_hires_with_outcomes)),
            needed=count(rec.n_needed),
        )
    )
    return lines


def evidence_needed(rec: Recommendation, t: Translate) -> str:
    have = _int(rec.criterion_counts.get("n_eligible", rec.n_hires_with_outcomes)) or 0
    needed = rec.n_needed or 0
    return t("desk.evidence.needed", more=count(max(needed - have, 0)), needed=count(needed))


# evidence tables


def validity_by_name(validity: pd.DataFrame) -> dict[str, dict]:
    return {str(r["weighting"]): r for r in validity.to_dict("records")} if len(validity) else {}


def gain_text(row: Mapping | None, base: str) -> str:
    """'+0.03 [+0.01, +0.05]' from a validity row's gain_vs_<base> columns."""
    g = f"gain_vs_{base}"
    return _estimate_cell(row or {}, g, f"{g}_ci_low", f"{g}_ci_high", sign=True)


def proof_table(validity: pd.DataFrame, t: Translate) -> pd.DataFrame:
    """Out-of-sample validity of current, equal, step and target weights with intervals, and the gains."""
    by_name = validity_by_name(validity)
    rows = []
    for name in NAMED_WEIGHTINGS:
        r = by_name.get(name)
        if r is None:
            continue
        rows.append(
            {
                t("desk.col.weighting"): weighting_name(name, t),
                t("desk.col.holdout_r"): plain(number_or_none(r.get("holdout_r"))),
                t("desk.col.interval"): interval(r.get("holdout_ci_low"), r.get("holdout_ci_high")),
                t("desk.col.holdout_n"): count(r.get("holdout_n")),
                t("desk.col.gain_vs_current"): DASH if name == "current" else gain_text(r, "current"),
                t("desk.col.gain_vs_unit"): DASH if name == "unit" else gain_text(r, "unit"),
                t("desk.col.min_impact_ratio"): plain(number_or_none(r.get("min_impact_ratio"))),
            }
        )
    return pd.DataFrame(rows)


def gain_sentence(row: Mapping | None, base: str, t: Translate, subject: str) -> str | None:
    """ "+0.03 [+0.01, +0.05] over the current weights on 412 hires the model never saw" in the reader's words."""
    if row is None or number_or_none(row.get(f"gain_vs_{base}")) is None:
        return None
    beats = row.get(f"beats_{base}")
    key = "desk.proof.beats" if _bool(beats) else "desk.proof.not_shown"
    return t(
        key,
        subject=subject,
        baseline=weighting_name(base, t),
        gain=signed(number_or_none(row[f"gain_vs_{base}"])),
        interval=interval(row.get(f"gain_vs_{base}_ci_low"), row.get(f"gain_vs_{base}_ci_high"), sign=True),
        n=count(row.get("holdout_n")),
    )


def weights_table(rec: Recommendation, t: Translate, competency: Callable[[str], str]) -> pd.DataFrame:
    """Current weights, this cycle's step with its interval and the target with its interval, per competency."""
    w = rec.weights
    rows = []
    for r in w.to_dict("records"):
        row = {
            t("desk.col.competency"): competency(r["competency_code"]),
            t("desk.col.current"): percent(number_or_none(r.get("current_weight"))),
        }
        if rec.fitted:
            row.update(
                {
                    t("desk.col.step"): percent(number_or_none(r.get("recommended_weight"))),
                    t("desk.col.step_interval"): _pct_interval(r.get("ci_low"), r.get("ci_high")),
                    t("desk.col.target"): percent(number_or_none(r.get("target_weight"))),
                    t("desk.col.target_interval"): _pct_interval(r.get("target_ci_low"), r.get("target_ci_high")),
                    t("desk.col.at_cap"): t("desk.yes") if _bool(r.get("at_cap")) else t("desk.no"),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def outcome_name(code: str, t: Translate) -> str:
    for key in (f"outcome.{code}", f"desk.outcome.{code}"):
        if _known(key):
            return t(key)
    return str(code)


def competency_validity_table(frame: pd.DataFrame, t: Translate, competency: Callable[[str], str]) -> pd.DataFrame:
    """Each competency's validity per outcome: observed r and the operational (corrected) r, with 95% intervals."""
    rows = []
    for r in frame.to_dict("records"):
        rows.append(
            {
                t("desk.col.competency"): competency(str(r["competency_code"])),
                t("desk.col.outcome"): outcome_name(str(r["outcome"]), t),
                t("desk.col.hires"): count(r.get("n")),
                t(
                    "desk.col.r_observed"
                ): f"{plain(number_or_none(r.get('r')))} {interval(r.get('ci_low'), r.get('ci_high'))}",
                t("desk.col.r_operational"): (
                    f"{plain(number_or_none(r.get('r_operational')))} "
                    f"{interval(r.get('ci_low_operational'), r.get('ci_high_operational'))}"
                ),
            }
        )
    return pd.DataFrame(rows)


def _pct_interval(low, high) -> str:
    if number_or_none(low) is None or number_or_none(high) is None:
        return DASH
    return f"[{percent(float(low))}, {percent(float(high))}]"


def _estimate_cell(row: Mapping, value: str, low: str, high: str, *, sign: bool = False) -> str:
    """A figure with its 95% interval when it has one; '<5' for a suppressed group, '–' where there is none."""
    if not row:
        return DASH
    if _bool(row.get("is_suppressed")):
        return SUPPRESSED
    number = number_or_none(row.get(value))
    if number is None:
        return DASH
    shown = signed(number) if sign else plain(number)
    bounds = interval(row.get(low), row.get(high), sign=sign)
    return shown if bounds == DASH else f"{shown} {bounds}"


def _ratio_cell(row: Mapping) -> str:
    return _estimate_cell(row, "impact_ratio", "ci_low", "ci_high")


def _group_note(row: Mapping, t: Translate, reference: str | None) -> str:
    notes = []
    if _bool(row.get("is_unknown")):
        notes.append(t("desk.gate.note.unknown"))
    if _bool(row.get("excluded_small")):
        floor = _int(row.get("floor_n"))
        notes.append(t("desk.gate.note.small", floor=count(floor)) if floor else t("desk.gate.note.small_plain"))
    if reference is not None and str(row.get("group_label")) == reference:
        notes.append(t("desk.gate.note.reference"))
    if _bool(row.get("flag")):
        notes.append(t("desk.gate.note.lowered_flag"))
    elif _bool(row.get("lowered_below_baseline")):
        notes.append(t("desk.gate.note.lowered"))
    if _bool(row.get("impact_flag")):
        notes.append(t("desk.gate.note.adverse"))
    return "; ".join(notes) or DASH


def gate_table(
    rows: pd.DataFrame, metric: str, t: Translate, proposed: str | None = "recommended", proposed_name: str = ""
) -> pd.DataFrame:
    """The gate for one metric: each group's applicants, rate and impact ratio (Katz interval) under the current
    weights and the proposal (`proposed` rows, named `proposed_name`; none for a family without a fit), the paired
    change with its interval, and why a group is excluded or flagged. Groups under five applicants stay listed
    with '<5' (their figures are suppressed before they reach here)."""
    part = rows[rows["metric"] == metric]
    if part.empty:
        return pd.DataFrame()
    current = part[part["weighting"] == "current"].set_index(["dimension", "group_label"])
    new = part[part["weighting"] == proposed].set_index(["dimension", "group_label"]) if proposed else current.iloc[0:0]
    current_name = weighting_name("current", t)
    rate_key = "desk.col.rate_under" if metric == "selection" else "desk.col.scoring_rate_under"
    out = []
    for key in current.index.union(new.index, sort=False):
        cur = current.loc[key].to_dict() if key in current.index else {}
        prop = new.loc[key].to_dict() if key in new.index else {}
        either = {**cur, **prop, "group_label": key[1]}
        reference = prop.get("reference_group") or cur.get("reference_group")
        row = {
            t("desk.col.dimension"): dimension_name(key[0], t),
            t("desk.col.group"): group_name(key[1], t),
            t("desk.col.n"): SUPPRESSED if _bool(either.get("is_suppressed")) else count(either.get("n")),
            t(rate_key, weighting=current_name): _rate_cell(cur),
            t("desk.col.ratio_under", weighting=current_name): _ratio_cell(cur),
        }
        if proposed:
            row[t(rate_key, weighting=proposed_name)] = _rate_cell(prop)
            row[t("desk.col.ratio_under", weighting=proposed_name)] = _ratio_cell(prop)
            row[t("desk.col.change")] = _change_cell(prop)
        row[t("desk.col.note")] = _group_note(either, t, None if reference is None else str(reference))
        out.append(row)
    return pd.DataFrame(out)


def _rate_cell(row: Mapping) -> str:
    if not row:
        return DASH
    if _bool(row.get("is_suppressed")):
        return SUPPRESSED
    return percent(number_or_none(row.get("rate")))


def _change_cell(row: Mapping) -> str:
    return _estimate_cell(row, "change", "change_ci_low", "change_ci_high", sign=True)


# the what-if of an edit


@dataclass(frozen=True)
class EditResult:
    """An edited weighting judged by ml.whatif.evaluate, and the verdict the store records with it."""

    result: whatif.WhatIf
    flags: tuple[dict, ...]
    gate: GateView
    evaluation: GateEvaluation

    @property
    def flagged(self) -> bool:
        return self.result.flagged


def _evaluate(
    weights: tuple[tuple[str, float], ...],
    current: tuple[tuple[str, float], ...],
    competencies: tuple[str, ...],
    moments: pd.DataFrame,
    front: pd.DataFrame | None,
    pool: pd.DataFrame,
    selection_rate: float | None,
    n_boot: int,
    seed: int,
) -> whatif.WhatIf:
    return whatif.evaluate(
        dict(weights),
        dict(current),
        list(competencies),
        whatif.moments_from_rows(moments, competencies),
        pool,
        selection_rate,
        front,
        n_boot=n_boot,
        seed=seed,
    )


# The bootstrap scores one family's pool a few hundred times (1-2 s): the same inputs are never scored twice in a
# server process. Every input is part of the key, so a new publish (new pool, moments or front) scores afresh.
_evaluate_cached = st.cache_data(max_entries=64, show_spinner=False)(_evaluate)


def gate_settings() -> tuple[int, int]:
    """The gate's bootstrap size and seed as the pipeline ran it, so an edit gets exactly the recommendation's test."""
    params = queries.model_parameters("recommendations")
    n_boot = _int(params.get("gate_boot")) or whatif.DEFAULT_GATE_BOOT
    seed = _int(params.get("seed")) or 0
    return n_boot, seed


def evaluate_edit(
    rec: Recommendation, weights: Mapping[str, float], scope: RowScope, t: Translate, lang: str
) -> EditResult:
    """ml.whatif.evaluate on exactly `weights` (valid weights: non-negative, sum 1, else LocalizedError), with the
    published moments and front and the family's applicant pool; its verdict, fingerprinted for the store."""
    clean = validate_weights(weights)
    n_boot, seed = gate_settings()
    moments = queries.optional(lambda: queries.recommendation_moments(rec.recommendation_id))
    front = queries.optional(lambda: queries.tradeoff_front(rec.recommendation_id))
    result = _evaluate_cached(
        tuple(sorted(clean.items())),
        tuple(sorted(rec.current_weights().items())),
        tuple(queries.competencies()),
        moments if moments is not None else pd.DataFrame(columns=["kind", "row_code", "col_code", "value", "n"]),
        front if front is not None and len(front) else None,
        queries.applicant_pool(scope, rec.job_family),
        rec.selection_rate,
        n_boot,
        seed,
    )
    flags = tuple(_named_flag(f) for f in result.gate.flags.to_dict("records")) if result.gate is not None else ()
    view = gate_view(flags, result.flagged, bool(result.gate is not None and result.gate.existing_impact), t)
    detail = {
        "source": "whatif",
        "language": lang,
        "n_boot": n_boot,
        "seed": seed,
        "validity": _plain_dict(result.validity),
        "gains": {k: _plain_dict(v) for k, v in result.gains.items()},
        "front": _plain_dict(result.front),
        "flag_rows": list(flags),
    }
    evaluation = evaluation_of(
        rec.recommendation_id,
        clean,
        flagged=result.flagged,
        flags=view.texts,
        flagged_groups=flag_groups(flags, t),
        existing_impact=view.existing_impact,
        detail=detail,
    )
    return EditResult(result, flags, view, evaluation)


def _named_flag(flag: Mapping) -> dict:
    out = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in flag.items()}
    if out.get("weighting") == "proposed":
        out["weighting"] = "edit"
    return out


def _plain_dict(values: Mapping) -> dict:
    out = {}
    for k, v in values.items():
        if isinstance(v, bool) or v is None:
            out[k] = v
        elif isinstance(v, int | float):
            out[k] = float(v) if math.isfinite(float(v)) else None
        else:
            out[k] = str(v)
    return out


def edit_gate_rows(edit: EditResult) -> pd.DataFrame:
    """The edit's gate in queries.gate_rows' shape (current and 'edit' rows of the selection metric), with the
    same <5 suppression, so gate_table shows an edit exactly like the recommendation."""
    gate = edit.result.gate
    if gate is None:
        return pd.DataFrame()
    impact = gate.impact.rename(columns={"group": "group_label", "flag": "impact_flag"})
    impact["weighting"] = impact["weighting"].replace({"proposed": "edit"})
    changes = gate.changes.rename(columns={"group": "group_label"})[
        ["dimension", "group_label", "change", "change_ci_low", "change_ci_high", "lowered", "flag"]
    ].rename(columns={"lowered": "lowered_below_baseline"})
    rows = impact.merge(changes, on=["dimension", "group_label"], how="left")
    is_edit = rows["weighting"] == "edit"
    for col in ("change", "change_ci_low", "change_ci_high"):
        rows.loc[~is_edit, col] = float("nan")
    for col in ("lowered_below_baseline", "flag"):
        rows[col] = is_edit & rows[col].astype("boolean").fillna(False).astype(bool)
    rows["is_suppressed"] = rows["n"] < queries.MIN_CELL
    for col in ("rate", "impact_ratio", "ci_low", "ci_high", "change", "change_ci_low", "change_ci_high"):
        if col in rows.columns:
            rows.loc[rows["is_suppressed"], col] = float("nan")
    return rows


def front_sentence(edit: EditResult, t: Translate) -> str:
    """Where the edit sits on the trade-off front, in words."""
    front = edit.result.front
    mine = number_or_none(front.get("min_impact_ratio"))
    validity = number_or_none(edit.result.validity.get("applicant_validity"))
    best = number_or_none(front.get("best_impact_at_validity"))
    if mine is None or validity is None or best is None:
        return t("desk.whatif.front_unknown")
    key = "desk.whatif.front_dominated" if front.get("dominated") else "desk.whatif.front_on"
    return t(key, validity=plain(validity), mine=plain(mine), best=plain(best))


def edit_validity_lines(edit: EditResult, t: Translate) -> list[str]:
    v, lines = edit.result.validity, []
    if number_or_none(v.get("holdout_r")) is not None:
        lines.append(
            t(
                "desk.whatif.validity",
                r=plain(v["holdout_r"]),
                interval=interval(v.get("holdout_ci_low"), v.get("holdout_ci_high")),
                n=count(v.get("holdout_n")),
            )
        )
    for base in ("current", "unit"):
        g = edit.result.gains.get(base)
        if g and number_or_none(g.get("difference")) is not None:
            lines.append(
                t(
                    "desk.whatif.gain",
                    baseline=weighting_name(base, t),
                    gain=signed(g["difference"]),
                    interval=interval(g.get("ci_low"), g.get("ci_high"), sign=True),
                )
            )
    if not lines:
        lines.append(t("desk.whatif.no_validity"))
    return lines


# recording


def decide(
    state: AppState,
    rec: Recommendation,
    decision: str,
    *,
    reason: str,
    decided_by: str,
    t: Translate,
    lang: str,
    weights: Mapping[str, float] | None = None,
    effective_from: dt.date | None = None,
    flag_acknowledged: bool = False,
    edit: EditResult | None = None,
) -> Decision:
    """Record an approve / edit / reject decision with the gate's verdict it was taken against; the store's
    LocalizedError explains any refusal (an edit without the evaluation of its own weights is one)."""
    if decision == "approved":
        weights = rec.recommended_weights()
        evaluation = published_evaluation(rec, t, lang)
    elif decision == "rejected":
        weights, effective_from = None, None
        evaluation = published_evaluation(rec, t, lang)
    else:
        evaluation = edit.evaluation if edit is not None else None
    return state.record_decision(
        rec.recommendation_id,
        rec.job_family,
        decision,
        reason=reason,
        decided_by=decided_by,
        weights=weights,
        effective_from=effective_from,
        flag_acknowledged=flag_acknowledged,
        recommended_weights=rec.baseline_weights() if decision != "rejected" else None,
        evaluation=evaluation,
    )


def pending_reviews(state: AppState) -> pd.DataFrame:
    """Recommendations the model made that nobody has decided on yet."""
    recs = queries.open_recommendations()
    decided = set(state.latest_decision_per_recommendation()["recommendation_id"])
    return recs[~recs["recommendation_id"].isin(decided)]


def latest_decision(state: AppState, recommendation_id: str) -> pd.Series | None:
    latest = state.latest_decision_per_recommendation()
    latest = latest[latest["recommendation_id"] == recommendation_id]
    return None if latest.empty else latest.iloc[-1]


def decision_log(state: AppState, job_family: str | None = None) -> pd.DataFrame:
    """The append-only decision log, newest first, with the weights as readable text."""
    log_frame = state.decisions(job_family)
    log_frame["weights"] = log_frame["weights_json"].map(_weights_text)
    cols = [
        "decision_id",
        "job_family",
        "decision",
        "weights",
        "effective_from",
        "reason",
        "flagged",
        "flag_acknowledged",
        "decided_by",
        "decided_at",
        "recommendation_id",
    ]
    return log_frame[cols].sort_values("decision_id", ascending=False)


def _weights_text(value) -> str:
    parsed = queries.parse_json_object(value) if value else {}
    return ", ".join(f"{k} {float(v):.3f}" for k, v in parsed.items())
