"""What every page does the same way: who is looking, the title, "not available yet", <5 cells, downloads."""

from __future__ import annotations

import functools
import logging
import numbers
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from dashboards import export, queries, session
from dashboards.app_state import User
from dashboards.auth import RowScope, can_view
from dashboards.i18n import catalogue, competency_name, job_family_name, page_title, t

T = TypeVar("T")
SUPPRESSED = "<5"

_incidents = logging.getLogger("talentloop.dashboards")
if not _incidents.handlers:
    # Streamlit configures only its own loggers; without a handler here a traceback would go to Python's bare
    # last-resort handler with no time on it.
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _incidents.addHandler(_handler)


class Incident(Exception):
    """What the browser is shown for an unexpected error: a short message with the incident id, no traceback."""


def report_incident(exc: BaseException, page: str = "-") -> str:
    """Log `exc` with its traceback and a fresh incident id (server side only); show the reader only the id."""
    incident = secrets.token_hex(4).upper()
    user = st.session_state.get(session.USER_KEY) or "-"
    _incidents.error("incident %s: %s for user %s on page %s", incident, type(exc).__name__, user, page, exc_info=exc)
    lang = st.session_state.get("lang") or "en"
    # A fresh exception, never raised, carries no traceback: the box shows the message and nothing else. It is an
    # exception element (not st.error) so that AppTest's at.exception still fails a test on any page error.
    st.exception(Incident(t("error.incident", lang, incident=incident)))
    return incident


@dataclass(frozen=True)
class PageContext:
    """The logged-in user, their language and row scope, and the page being drawn."""

    user: User
    lang: str
    scope: RowScope
    page: str

    def t(self, key: str, **fmt: Any) -> str:
        return t(key, self.lang, **fmt)

    def competency(self, code: str) -> str:
        return competency_name(code, self.lang)

    def family(self, code: str) -> str:
        return t("label.all", self.lang) if code == "all" else job_family_name(code, self.lang)

    def term(self, term: str) -> str:
        """A model term: a competency code as its name, 'job_family=<code>' as the family's name."""
        name, _, value = str(term).partition("=")
        if name == "job_family" and value:
            return f"{self.t('label.job_family')}: {self.family(value)}"
        return self.competency(str(term))

    def group(self, label: str) -> str:
        """A demographic group label ("female × asian") in the reader's language, part by part."""
        known = catalogue_keys()
        return " × ".join(self.t(f"group.{p}") if f"group.{p}" in known else p for p in str(label).split(" × "))

    @property
    def department_only(self) -> bool:
        return not self.scope.all_rows


def page(name: str) -> PageContext:
    """Open a page: check the role may see it (a second lock behind the navigation), draw its title and scope."""
    user = session.require_user()
    lang = session.language()
    if not can_view(user, name):
        st.error(t("label.access_denied", lang))
        st.stop()
    ctx = PageContext(user=user, lang=lang, scope=session.row_scope(), page=name)
    st.title(page_title(name, lang))
    if ctx.department_only:
        st.caption(ctx.t("label.scope_department", department=ctx.scope.department))
    return ctx


def load(ctx: PageContext, fetch: Callable[[], T]) -> T | None:
    """`fetch()`, or None after saying which table is not available yet (a model that has not been published)."""
    try:
        return fetch()
    except queries.NotAvailable as missing:
        st.info(ctx.t("label.not_available", table=missing.table))
        return None


def suppressed_view(
    df: pd.DataFrame, columns: Iterable[str], flag: str = "is_suppressed", *, cellwise: bool = False
) -> pd.DataFrame:
    """A display copy where a suppressed cell reads "<5" (a blank would look like missing data).

    By default a null in `columns` is suppressed when the row's `flag` says so; with `cellwise`, every null in
    `columns` is (for tables whose values each have their own denominator, all suppressed below five people).
    """
    out = df.copy()
    if cellwise:
        mask = pd.Series(True, index=out.index)
    elif flag in out.columns:
        mask = out[flag].fillna(False).astype(bool)
    else:
        return out
    for col in columns:
        if col in out.columns:
            out[col] = out[col].astype(object)
            out.loc[mask & out[col].isna(), col] = SUPPRESSED
    return out.drop(columns=[flag], errors="ignore")


# Columns whose values are codes with a catalogue entry: "<prefix>.<code>".
VALUE_PREFIXES = {
    "score_band": "band",
    "calibration_status": "status",
    "decision": "decision",
    "weighting": "weighting",
    "last_outcome": "last_outcome",
    "stage_name": "stage",
    "stage": "stage",
    "dimension": "dimension",
    "metric": "metric",
    "outcome": "outcome",
}


def translate_codes(df: pd.DataFrame, ctx: PageContext) -> pd.DataFrame:
    """Job families, competencies and other codes as names in the reader's language (unknown codes stay)."""
    known = catalogue_keys()
    out = df.copy()
    if "job_family" in out.columns:
        out["job_family"] = out["job_family"].map(lambda v: ctx.family(v) if isinstance(v, str) else v)
    if "competency_code" in out.columns:
        out["competency_code"] = out["competency_code"].map(
            lambda v: ctx.competency(v) if isinstance(v, str) and v != "all" else v
        )
    if "term" in out.columns:
        # Model terms that are competency codes read as competency names; other terms stay as the model named them.
        out["term"] = out["term"].map(lambda v: ctx.term(v) if isinstance(v, str) else v)
    for col in ("group_label", "reference_group", "category"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: ctx.group(v) if isinstance(v, str) else v)
    for col, prefix in VALUE_PREFIXES.items():
        if col in out.columns:
            out[col] = out[col].map(lambda v, p=prefix: ctx.t(f"{p}.{v}") if f"{p}.{v}" in known else v)
    return out


def labelled(df: pd.DataFrame, ctx: PageContext) -> pd.DataFrame:
    """Column headers in the reader's language (a column without a label keeps its name)."""
    known = catalogue_keys()
    return df.rename(columns={c: ctx.t(f"col.{c}") for c in df.columns if f"col.{c}" in known})


@functools.cache
def catalogue_keys() -> frozenset[str]:
    return frozenset(catalogue("en"))


def table(
    df: pd.DataFrame,
    ctx: PageContext,
    name: str,
    *,
    suppressed: Iterable[str] = (),
    cellwise: bool = False,
    height: int | None = None,
) -> pd.DataFrame:
    """Show `df` (codes translated, <5 cells marked, headers labelled) with CSV and Excel downloads of the same."""
    exported = suppressed_view(translate_codes(df, ctx), suppressed, cellwise=cellwise)
    kwargs = {"height": height} if height else {}
    st.dataframe(labelled(display_format(exported), ctx), hide_index=True, width="stretch", **kwargs)
    # The download holds the same rows, columns and <5 cells, with full-precision numbers for further analysis.
    downloads(labelled(exported, ctx), ctx, name)
    return exported


def _formatter(column: str) -> Callable[[Any], str] | None:
    if "ratio" in column:
        return lambda v: f"{v:.2f}"
    if column.endswith("_rate") or "_rate_" in column or column.startswith("rate") or column.endswith("_share"):
        return lambda v: f"{v:.1%}"
    if column.startswith(("avg_days", "mean_days")):
        return lambda v: f"{v:,.1f}"
    if column.endswith("_weight") or column in {"weight", "change"}:
        return lambda v: f"{v:.3f}"
    return None


def display_format(df: pd.DataFrame) -> pd.DataFrame:
    """Rates as percentages, ratios and weights to fixed decimals, dates without a midnight time, as display text;
    "<5" and other text stay as they are."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            stamps = out[col].dropna()
            if len(stamps) and (stamps == stamps.dt.normalize()).all():
                out[col] = out[col].dt.date
            continue
        fmt = _formatter(str(col))
        mixed = out[col].dtype == object
        if fmt is None and not mixed:
            continue
        fmt = fmt or _plain
        # A column holding "<5" next to numbers is text for display: Arrow cannot carry a mixed column.
        out[col] = [
            fmt(v) if isinstance(v, numbers.Real) and not isinstance(v, bool) and pd.notna(v) else v for v in out[col]
        ]
    return out


def _plain(value: float) -> str:
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3f}"


def downloads(df: pd.DataFrame, ctx: PageContext, name: str) -> None:
    """CSV and Excel buttons for exactly what the page shows, formula-injection safe (export.py)."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        ctx.t("label.download_csv"),
        data=lambda: export.to_csv_bytes(df),
        file_name=f"{ctx.page}_{name}.csv",
        mime=export.CSV_MIME,
        key=f"csv_{ctx.page}_{name}",
        on_click="ignore",
    )
    right.download_button(
        ctx.t("label.download_excel"),
        data=lambda: export.to_excel_bytes(df, sheet_name=name),
        file_name=f"{ctx.page}_{name}.xlsx",
        mime=export.EXCEL_MIME,
        key=f"xlsx_{ctx.page}_{name}",
        on_click="ignore",
    )


def chart(fig) -> None:
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})


def percent(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0%}"


def number(value: float | None, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return SUPPRESSED
    return f"{value:,.{digits}f}"
