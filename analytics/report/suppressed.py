"""The report as shared outside the QI committee: small-cell suppression of every table.

Each table of a `Content` goes through `analytics.figures.disclosure.suppress_table` with its
own rules (counts, figures derived from them, totals for complementary suppression);
the lists of individual missed fills and serious events are dropped (their counts stay,
suppressed like any other count).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from analytics.figures.disclosure import METRICS_RULES, Rules, suppress_table, suppression_mask
from analytics.report.content import Content

BY_SITE_RULES = dataclasses.replace(METRICS_RULES, column_total=("group", "all", ()))
QUALITY_RULES = Rules(
    counts=("fills", "refill_errors", "refills_with_residuals", "residual_flags",
            "active_patients", "patients_with_complication"),
    derived={
        "refill_error_rate_per_100": ("refill_errors", "fills"),
        "residual_flags_per_100": ("residual_flags", "refills_with_residuals"),
        "share_patients_with_complication": ("patients_with_complication", "active_patients"),
    },
    column_total=("group", "all", ()),
)  # fmt: skip
WORKLIST_RULES = Rules(
    counts=("missed", "overdue", "pending", "total"),
    row_totals={"total": ("missed", "overdue", "pending")},
    column_total=("site", "all", ()),
)
_RATE_COLUMNS = {
    "rate_per_1000": ("reports",),
    "ci_low": ("reports",),
    "ci_high": ("reports",),
    "rate_per_1000_12m": ("reports_12m",),
}
CATEGORY_RULES = Rules(
    counts=("reports", "serious", "reports_12m"),
    derived=_RATE_COLUMNS,
    column_total=("category", "all categories", ()),
)
CODE_RULES = Rules(counts=("reports", "serious", "reports_12m"), derived=_RATE_COLUMNS)
FUNNEL_RULES = Rules(
    counts=("reports",),
    derived={"rate_per_1000": ("reports",), "signal": ("reports",)},
    column_total=("group", "all sites", ()),
)
SURGERY_RULES = Rules(
    counts=("within_30_days", "31_days_to_1_year", "after_1_year", "no_surgery_in_the_data",
            "total"),
    row_totals={"total": ("within_30_days", "31_days_to_1_year", "after_1_year",
                          "no_surgery_in_the_data")},
)  # fmt: skip
COUNT_RULES = Rules(counts=("count",))


def _funnel(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Funnel rows; when the pooled count is small the pooled rate and limits go too."""
    out = suppress_table(df, FUNNEL_RULES, threshold)
    total = out["group"] == "all sites"
    if total.any() and isinstance(out.loc[total, "reports"].iloc[0], str):
        limits = ["pooled_rate_per_1000", "lower_95", "upper_95", "lower_998", "upper_998"]
        out[limits] = out[limits].astype(object)
        out.loc[:, limits] = None
        out["rate_per_1000"] = out["rate_per_1000"].astype(object)
        out.loc[total, "rate_per_1000"] = None
    return out


def suppress_content(content: Content, threshold: int) -> Content:
    """A copy of `content` with small counts shown as '<threshold' and figures derived
    from them blanked, and no lists of individual events."""
    s = suppress_table
    return dataclasses.replace(
        content,
        manifest=s(content.manifest, Rules(counts=("rows_loaded",)), threshold),
        history=s(content.history, METRICS_RULES, threshold),
        totals_12m=s(content.totals_12m, METRICS_RULES, threshold),
        by_site=s(content.by_site, BY_SITE_RULES, threshold),
        not_in_rate=s(content.not_in_rate, Rules(counts=("fills",)), threshold),
        missed=content.missed.iloc[0:0],
        quality=s(content.quality, QUALITY_RULES, threshold),
        worklist=s(content.worklist, WORKLIST_RULES, threshold),
        categories=s(content.categories, CATEGORY_RULES, threshold),
        codes=s(content.codes, CODE_RULES, threshold),
        funnel=_funnel(content.funnel, threshold),
        serious=content.serious.iloc[0:0],
        surgery=s(content.surgery, SURGERY_RULES, threshold),
        list_counts=s(content.list_counts, COUNT_RULES, threshold),
        data_quality=s(content.data_quality, COUNT_RULES, threshold),
        lists_hidden=True,
    )


def hidden_months(history: pd.DataFrame, rate: str) -> list[str]:
    """Months whose `rate` was blanked (for the note under a chart)."""
    return history.loc[history[rate].isna(), "month"].tolist()


__all__ = ["suppress_content", "suppression_mask", "hidden_months"]
