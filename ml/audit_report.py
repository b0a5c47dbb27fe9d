"""A bias-audit report a company can file: the content NYC Local Law 144's rules (6 RCNY 5-301 and 5-303) ask
of a bias audit of an automated employment decision tool, for one job family and one period, as HTML and PDF.

Pure: frames in, an HTML string and PDF bytes out. The figures are ml.fairness.adverse_impact_table's on the
scored applicants given (the same rule as marts.adverse_impact: reference floor, 'unknown' and small categories
reported, never the reference), so the report, the mart and the review desk agree.

What 5-301 / 5-303 ask, and where it is here:
- the date of the audit, the data's period and source, the number of applicants assessed: "Audit" section;
- selection rates and impact ratios, and (for a tool that scores) the median score with scoring rates and impact
  ratios, for sex, race/ethnicity and their intersections: one table per metric and dimension;
- the number of individuals in an unknown category: "Unknown categories";
- categories excluded for being under 2% of the data, with the justification, their counts and rates:
  "Categories excluded from the impact-ratio calculation";
- the method (reference group rule, test, interval, multiplicity control): "Method".
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ml.fairness import (
    CI_LEVEL,
    DEFAULT_ADJUST,
    DEFAULT_ALPHA,
    DEFAULT_PERMUTATIONS,
    FOUR_FIFTHS,
    INTERSECTION_SEP,
    RATE_TABLE_COLUMNS,
    REFERENCE_FLOOR_N,
    REFERENCE_FLOOR_SHARE,
    SMALL_GROUP_N,
    adverse_impact_table,
    fmt_p,
)

METRICS = ("selection", "scoring")
DIMENSIONS = ("sex", "ethnicity", f"sex{INTERSECTION_SEP}ethnicity")
DIMENSION_TITLES = {"sex": "Sex", "ethnicity": "Race/ethnicity", f"sex{INTERSECTION_SEP}ethnicity": "Intersectional"}
METRIC_TITLES = {"selection": "Selection rates", "scoring": "Scoring rates"}
POSITIVE_TITLES = {"selection": "Selected", "scoring": "Above median"}
TABLE_HEADINGS = ("Category", "Applicants", "{positive}", "Rate", "Impact ratio", "95% CI", "Adj. p", "Result")
# Rates and ratios to three decimals: the filing states a ratio of .7996 as 0.800 below four-fifths, not as "0.80".
DECIMALS = 3
SUPPRESSED = "<5"
DASH = "-"
DEFAULT_TOOL = "TalentLoop interview scorecard composite (AI video-interview competency scores, weighted)"
ADJUST_TITLES = {
    "minP": "Westfall-Young minP permutation adjustment",
    "maxT": "Westfall-Young maxT permutation adjustment",
    "holm": "Holm's step-down adjustment",
    "bh": "Benjamini-Hochberg adjustment",
    "bonferroni": "Bonferroni adjustment",
    "none": "no adjustment",
}

RESULT_REFERENCE = "reference"
RESULT_FLAG = "adverse impact"
RESULT_BELOW = "below 4/5, not significant"
RESULT_OK = "no adverse impact"
RESULT_EXCLUDED = "excluded: n < {floor}"
RESULT_UNKNOWN = "unknown: not compared"
RESULT_NO_REFERENCE = "no reference"


@dataclass(frozen=True)
class AuditMeta:
    """What the report is about and where its data came from."""

    job_family: str
    period_start: dt.date
    period_end: dt.date
    source: str
    audit_date: dt.date
    tool: str = DEFAULT_TOOL
    auditor: str | None = None
    distribution_date: dt.date | None = None
    data_through: dt.date | None = None


@dataclass(frozen=True)
class AuditReport:
    """The figures of one report: adverse_impact_table's rows and the counts the summary states."""

    meta: AuditMeta
    table: pd.DataFrame
    n_assessed: int
    n_selected: int
    median_score: float
    unknown: dict[str, int]
    n_perm: int
    alpha: float
    suppress_below: int
    floor: dict[str, int] = field(default_factory=dict)


def build_report(
    pool: pd.DataFrame,
    meta: AuditMeta,
    *,
    selected_col: str = "hired",
    score_col: str = "composite",
    adjust: str = DEFAULT_ADJUST,
    alpha: float = DEFAULT_ALPHA,
    n_perm: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    suppress_below: int = SMALL_GROUP_N,
) -> AuditReport:
    """The report's figures for `pool`: one row per scored applicant of the family and period, with sex,
    ethnicity, selected_col (hired, 0/1) and score_col (composite).

    suppress_below: counts and rates of fewer people read "<5" (the dashboards' rule); 0 shows every count, for
    a confidential copy to the auditor.
    """
    frame = pool[["sex", "ethnicity"]].copy()
    frame["_selected"] = pd.to_numeric(pool[selected_col], errors="coerce").astype(float)
    frame["_score"] = pd.to_numeric(pool[score_col], errors="coerce").astype(float)
    table = (
        adverse_impact_table(frame, "_selected", "_score", adjust=adjust, alpha=alpha, n_perm=n_perm, seed=seed)
        if len(frame)
        else pd.DataFrame(columns=["metric", *RATE_TABLE_COLUMNS])
    )
    first = table[table["metric"] == table["metric"].iloc[0]] if len(table) else table
    unknown = {
        dim: int(first.loc[(first["dimension"] == dim) & first["is_unknown"].astype(bool), "n"].sum())
        for dim in DIMENSIONS
    }
    floor = {m: int(table.loc[table["metric"] == m, "floor_n"].max()) for m in METRICS if (table["metric"] == m).any()}
    scores = frame["_score"].dropna()
    return AuditReport(
        meta=meta,
        table=table,
        n_assessed=len(frame),
        n_selected=int(frame["_selected"].fillna(0).sum()),
        median_score=float(scores.median()) if len(scores) else float("nan"),
        unknown=unknown,
        n_perm=n_perm,
        alpha=alpha,
        suppress_below=suppress_below,
        floor=floor,
    )


# ---------------------------------------------------------------------------------------------------------------
# What both formats show, as text
# ---------------------------------------------------------------------------------------------------------------


def _num(x: float, decimals: int = DECIMALS) -> str:
    return f"{x:.{decimals}f}" if x is not None and np.isfinite(x) else DASH


def _count(n: int, small: bool) -> str:
    return SUPPRESSED if small else f"{int(n):,}"


def _p_text(p: float) -> str:
    shown = fmt_p(p)
    return shown.replace("<", "< ") if shown.startswith("<") else f"= {shown}"


def _result(row: pd.Series) -> str:
    if bool(row["is_unknown"]):
        return RESULT_UNKNOWN
    if bool(row["excluded_small"]):
        return RESULT_EXCLUDED.format(floor=int(row["floor_n"]))
    if row["reference_group"] is None or pd.isna(row["reference_group"]):
        return RESULT_NO_REFERENCE
    if row["group"] == row["reference_group"]:
        return RESULT_REFERENCE
    if bool(row["flag"]):
        return RESULT_FLAG
    if np.isfinite(row["impact_ratio"]) and row["impact_ratio"] < FOUR_FIFTHS:
        return RESULT_BELOW
    return RESULT_OK


def _order(part: pd.DataFrame) -> pd.DataFrame:
    """Compared categories first (by label), then those excluded for size, then the unknown ones."""
    rank = np.where(part["is_unknown"], 2, np.where(part["excluded_small"], 1, 0))
    return part.assign(_rank=rank).sort_values(["_rank", "group"], kind="stable").drop(columns="_rank")


def table_rows(report: AuditReport, metric: str, dimension: str) -> list[list[str]]:
    """The cells of one table, as both formats print them (category, applicants, positive, rate, impact ratio,
    95% CI, adjusted p, result). Unknown and excluded categories show their counts and rates only: 5-301 leaves
    them out of the impact-ratio calculation."""
    t = report.table
    part = t[(t["metric"] == metric) & (t["dimension"] == dimension)]
    rows = []
    for _, r in _order(part).iterrows():
        small = int(r["n"]) < report.suppress_below
        compared = bool(r["eligible"]) and not small
        ratio = _num(r["impact_ratio"]) if compared else DASH
        ci = f"{_num(r['ci_low'])}-{_num(r['ci_high'])}" if compared and np.isfinite(r["ci_low"]) else DASH
        p = fmt_p(r["p_adjusted"]) if compared and np.isfinite(r["p_adjusted"]) else DASH
        rows.append(
            [
                str(r["group"]),
                _count(r["n"], small),
                _count(r["n_positive"], small),
                SUPPRESSED if small else _num(r["rate"]),
                ratio,
                ci,
                p,
                _result(r),
            ]
        )
    return rows


def excluded_rows(report: AuditReport) -> list[list[str]]:
    """Categories under the floor (known, n < floor_n): metric, dimension, category, applicants, rate."""
    t = report.table
    part = t[t["excluded_small"].astype(bool) & ~t["is_unknown"].astype(bool)] if len(t) else t
    rows = []
    for _, r in part.iterrows():
        small = int(r["n"]) < report.suppress_below
        rows.append(
            [
                METRIC_TITLES[r["metric"]].removesuffix(" rates").lower(),
                DIMENSION_TITLES.get(r["dimension"], r["dimension"]),
                str(r["group"]),
                _count(r["n"], small),
                SUPPRESSED if small else _num(r["rate"]),
            ]
        )
    return rows


def findings(report: AuditReport) -> list[str]:
    """One sentence per flagged category (ratio below four-fifths and adjusted test significant), or that none is."""
    t = report.table
    if not len(t):
        return ["No scored applicants in this period: nothing to audit."]
    flagged = t[t["flag"].astype(bool)]
    below = t[t["eligible"].astype(bool) & (t["impact_ratio"] < FOUR_FIFTHS) & ~t["flag"].astype(bool)]
    out = []
    for _, r in flagged.iterrows():
        out.append(
            f"{METRIC_TITLES[r['metric']].removesuffix('s')}, {DIMENSION_TITLES.get(r['dimension'], r['dimension'])}: "
            f"{r['group']} has an impact ratio of {_num(r['impact_ratio'])} "
            f"(95% CI {_num(r['ci_low'])}-{_num(r['ci_high'])}) against {r['reference_group']}, "
            f"adjusted p {_p_text(r['p_adjusted'])}."
        )
    if not out:
        out.append(
            f"No compared category has an impact ratio below {FOUR_FIFTHS:g} with a significant adjusted test "
            f"(alpha = {report.alpha:g})."
        )
    if len(below):
        out.append(
            f"{len(below)} compared categor{'y has' if len(below) == 1 else 'ies have'} an impact ratio below "
            f"{FOUR_FIFTHS:g} without a significant adjusted test; they are listed in the tables."
        )
    return out


def summary_items(report: AuditReport) -> list[tuple[str, str]]:
    """The audit's facts, label and value."""
    m = report.meta
    rate = report.n_selected / report.n_assessed if report.n_assessed else float("nan")
    return [
        ("Job family", m.job_family),
        ("Automated employment decision tool", m.tool),
        ("Date of the audit", m.audit_date.isoformat()),
        ("Independent auditor", m.auditor or "(to be completed by the independent auditor)"),
        ("Distribution date of the tool", m.distribution_date.isoformat() if m.distribution_date else "(not recorded)"),
        ("Data period (interview dates)", f"{m.period_start.isoformat()} to {m.period_end.isoformat()}"),
        ("Data source", m.source),
        ("Data through", m.data_through.isoformat() if m.data_through else "(not recorded)"),
        ("Applicants assessed (scored)", f"{report.n_assessed:,}"),
        ("Selected (hired)", f"{report.n_selected:,} (selection rate {_num(rate)})"),
        ("Median composite score (all assessed)", _num(report.median_score)),
    ]


def unknown_items(report: AuditReport) -> list[tuple[str, str]]:
    n = report.n_assessed
    share = lambda k: f" ({k / n:.1%} of the applicants)" if n else ""  # noqa: E731
    return [
        ("Sex unknown", f"{report.unknown['sex']:,}{share(report.unknown['sex'])}"),
        ("Race/ethnicity unknown", f"{report.unknown['ethnicity']:,}{share(report.unknown['ethnicity'])}"),
        (
            "Sex or race/ethnicity unknown (intersectional)",
            f"{report.unknown[DIMENSIONS[2]]:,}{share(report.unknown[DIMENSIONS[2]])}",
        ),
    ]


def method_paragraphs(report: AuditReport) -> list[str]:
    t = report.table
    floor = max(report.floor.values()) if report.floor else REFERENCE_FLOOR_N
    n_tests = int(t["n_tests"].max()) if len(t) and "n_tests" in t.columns else 0
    adjust = str(t["adjust_method"].dropna().iloc[0]) if len(t) and t["adjust_method"].notna().any() else "none"
    permutations = f" ({report.n_perm:,} permutations)" if adjust in ("minP", "maxT") else ""
    return [
        "Applicants: every candidate of the job family with a completed, scored interview dated in the period, once "
        "each (their latest such interview). Selected: hired into the job family. Scoring rate: the share of a "
        "category whose composite score is strictly above the median composite score of all applicants assessed "
        f"({_num(report.median_score)}). Sex and race/ethnicity are the candidates' own answers; a missing or blank "
        "answer is the category 'unknown'.",
        "Impact ratio: a category's rate divided by the rate of the reference category, which is the category with "
        f"the highest rate among the known categories with at least max({REFERENCE_FLOOR_N}, "
        f"{REFERENCE_FLOOR_SHARE:.0%} of the applicants) = {floor} applicants (ties: the larger category). Computed "
        "separately for sex, race/ethnicity and their intersections, and for selection and scoring.",
        f"Exclusions: categories with fewer than {floor} applicants are listed with their counts and rates but left "
        f"out of the impact-ratio calculation: 6 RCNY 5-301 permits leaving out categories under "
        f"{REFERENCE_FLOOR_SHARE:.0%} of the data, and the floor of {REFERENCE_FLOOR_N} keeps a handful of people "
        "(for example 2 of 5, a rate of 0.400) from becoming the yardstick of the whole family. Individuals in an "
        "unknown category are counted and left out of the calculation, as 5-301 requires.",
        f"Interval: {CI_LEVEL:.0%} confidence interval of the impact ratio by Katz's log method (0.5 added to every "
        "cell of a 2x2 table with a zero cell).",
        "Test: a one-sided two-proportion z test that the category's rate is lower than the reference's (Fisher's "
        f"exact test when an expected cell is under 5). Multiplicity: {ADJUST_TITLES.get(adjust, adjust)}"
        f"{permutations} over all {n_tests} tests of this report (both metrics, all dimensions and "
        "intersections), the reference re-chosen in every permutation. A category shows adverse impact when its "
        f"impact ratio is below {FOUR_FIFTHS:g} (the four-fifths rule) and its adjusted p-value is below "
        f"{report.alpha:g}.",
        (
            f"Privacy: counts and rates of fewer than {report.suppress_below} people read '{SUPPRESSED}', so that no "
            "individual can be recognised; such categories are never the reference and never compared."
            if report.suppress_below > 0
            else "Every count is shown, including categories of fewer than 5 people: a confidential copy."
        ),
    ]


def title(report: AuditReport) -> str:
    m = report.meta
    return f"Bias audit: {m.job_family}, {m.period_start.isoformat()} to {m.period_end.isoformat()}"


def sections(report: AuditReport) -> list[tuple[str, str]]:
    """(metric, dimension) of every results table, in print order."""
    return [(m, d) for m in METRICS for d in DIMENSIONS]


def table_title(metric: str, dimension: str) -> str:
    return f"{METRIC_TITLES[metric]}: {DIMENSION_TITLES[dimension]}"


def headings(metric: str) -> list[str]:
    return [h.format(positive=POSITIVE_TITLES[metric]) for h in TABLE_HEADINGS]


EXCLUDED_HEADINGS = ("Metric", "Dimension", "Category", "Applicants", "Rate")


# ---------------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1f2933; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #cbd2d9; padding: 0.25rem 0.5rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text { text-align: left; }
th { background: #f0f4f8; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
tr.flag td { background: #fde8e8; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _html_table(caption: str, head: list[str] | tuple[str, ...], rows: list[list[str]]) -> str:
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{_e(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cls = ' class="flag"' if row[-1] == RESULT_FLAG else ""
        cells = "".join(
            f'<td class="text">{_e(v)}</td>' if i in (0, len(row) - 1) else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html_items(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def to_html(report: AuditReport) -> str:
    """The report as one self-contained HTML page; every value from the data is escaped."""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title(report))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title(report))}</h1>",
        "<p>Summary of the results of a bias audit under New York City Local Law 144 of 2021 and its rules "
        "(6 RCNY 5-300 to 5-304).</p>",
        "<h2>Audit</h2>",
        _html_items(summary_items(report)),
        "<h2>Findings</h2><ul>",
        *[f"<li>{_e(s)}</li>" for s in findings(report)],
        "</ul>",
        "<h2>Unknown categories</h2>",
        "<p>Individuals assessed but not included in the calculations because their category is unknown:</p>",
        _html_items(unknown_items(report)),
    ]
    for metric in METRICS:
        parts.append(f"<h2>{_e(METRIC_TITLES[metric])}</h2>")
        for m, d in sections(report):
            if m == metric:
                parts.append(_html_table(table_title(m, d), headings(m), table_rows(report, m, d)))
    parts.append("<h2>Categories excluded from the impact-ratio calculation</h2>")
    excluded = excluded_rows(report)
    if excluded:
        parts.append(_html_table("Excluded categories", EXCLUDED_HEADINGS, excluded))
    else:
        parts.append("<p>None: every known category reaches the floor.</p>")
    parts.append("<h2>Method</h2>")
    parts += [f"<p>{_e(p)}</p>" for p in method_paragraphs(report)]
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------------

# Column widths (mm) of a results table on A4 portrait with 15 mm margins (180 mm).
_COL_WIDTHS = (46, 18, 17, 13, 15, 23, 13, 35)
_COL_ALIGN = ("LEFT", *["RIGHT"] * 6, "LEFT")
_EXCLUDED_WIDTHS = (25, 35, 70, 25, 25)
_EXCLUDED_ALIGN = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")


def _font_file() -> Path | None:
    """DejaVu Sans as matplotlib (a locked dependency) ships it: it covers '×', '≥' and most scripts' letters."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return path if path.exists() else None


def to_pdf(report: AuditReport) -> bytes:
    """The report as a PDF (fpdf2): the same sections and tables as the HTML."""
    from fpdf import FPDF, FontFace

    m = report.meta
    heading = title(report)

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, size=7)
            self.cell(0, 5, f"{heading} - page {self.page_no()} of {{nb}}", align="C")

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    font = _font_file()
    if font is not None:
        family = "DejaVu"
        pdf.add_font(family, "", str(font))
        bold = font.with_name("DejaVuSans-Bold.ttf")
        pdf.add_font(family, "B", str(bold if bold.exists() else font))
        text = str
    else:
        family = "Helvetica"

        def text(value) -> str:
            # The core fonts are Latin-1 only: anything else is shown as '?', never dropped silently.
            return str(value).replace("≥", ">=").encode("latin-1", "replace").decode("latin-1")

    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(text(heading))
    pdf.set_author("TalentLoop")
    pdf.set_creation_date(dt.datetime.combine(m.audit_date, dt.time(), tzinfo=dt.UTC))
    pdf.add_page()

    def h1(s: str) -> None:
        pdf.set_font(family, "B", 15)
        pdf.multi_cell(0, 8, text(s), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def h2(s: str) -> None:
        pdf.ln(2)
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(0, 6, text(s), align="L", new_x="LMARGIN", new_y="NEXT")

    def para(s: str, size: float = 9) -> None:
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, 4.6, text(s), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def items(pairs: list[tuple[str, str]]) -> None:
        pdf.set_font(family, "", 9)
        with pdf.table(col_widths=(60, 120), first_row_as_headings=False, text_align="LEFT", line_height=4.6) as tab:
            for k, v in pairs:
                row = tab.row()
                row.cell(text(k), style=FontFace(emphasis="BOLD"))
                row.cell(text(v))
        pdf.ln(1)

    def grid(caption: str, head, rows, widths, align) -> None:
        pdf.set_font(family, "B", 9)
        pdf.multi_cell(0, 5, text(caption), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 7.5)
        with pdf.table(
            col_widths=widths,
            text_align=align,
            line_height=3.8,
            headings_style=FontFace(emphasis="BOLD", fill_color=(240, 244, 248)),
        ) as tab:
            tab.row([text(h) for h in head])
            for r in rows:
                style = FontFace(fill_color=(253, 232, 232)) if r[-1] == RESULT_FLAG else None
                tab.row([text(v) for v in r], style=style)
        pdf.ln(2)

    h1(heading)
    para(
        "Summary of the results of a bias audit under New York City Local Law 144 of 2021 and its rules "
        "(6 RCNY 5-300 to 5-304)."
    )
    h2("Audit")
    items(summary_items(report))
    h2("Findings")
    for s in findings(report):
        para(f"- {s}")
    h2("Unknown categories")
    para("Individuals assessed but not included in the calculations because their category is unknown:")
    items(unknown_items(report))
    for metric in METRICS:
        pdf.add_page()
        h2(METRIC_TITLES[metric])
        for mm, d in sections(report):
            if mm == metric:
                grid(table_title(mm, d), headings(mm), table_rows(report, mm, d), _COL_WIDTHS, _COL_ALIGN)
    h2("Categories excluded from the impact-ratio calculation")
    excluded = excluded_rows(report)
    if excluded:
        grid("Excluded categories", EXCLUDED_HEADINGS, excluded, _EXCLUDED_WIDTHS, _EXCLUDED_ALIGN)
    else:
        para("None: every known category reaches the floor.")
    h2("Method")
    for p in method_paragraphs(report):
        para(p)
    return bytes(pdf.output())
