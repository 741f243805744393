"""The summary in plain sentences, each one built from a figure of the (possibly
suppressed) Content or a signal of a control chart: nothing is written that was not
computed. A suppressed count reads '<11', and a figure derived from it is left out."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.report.content import Content
from analytics.report.control import point_signal
from analytics.report.table import Cell

WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_of(value: Any, singular: str, plural: str | None = None, start: bool = False) -> str:
    """'two pumps', 'one pump', '<11 pumps', '1,234 fills' (capitalised at a sentence start)."""
    plural = plural or singular + "s"
    if isinstance(value, str):
        text = f"{value} {plural}"
    else:
        n = int(value)
        number = WORDS[n] if n < len(WORDS) else f"{n:,}"
        text = f"{number} {singular if n == 1 else plural}"
    return text[0].upper() + text[1:] if start else text


def _hidden(value: Any) -> bool:
    return value is None or isinstance(value, str) or pd.isna(value)


def _reading(content: Content, measure_id: str) -> str:
    signal = point_signal(content.charts, measure_id, content.meta.month.month)
    if signal in ("", "none"):
        return "within the usual range" if signal == "none" else "too few months for a chart"
    words = signal.replace("runs signal", "a non-random run on the chart")
    return words.replace(
        "above the upper limit", "above the upper control limit (a signal)"
    ).replace("below the lower limit", "below the lower control limit (a signal)")


def on_time(content: Content) -> str:
    row, month = content.this_month, content.meta.month.short
    due, done, rate = row["refills_due"], row["on_time"], row["on_time_rate"]
    if due == 0:
        return f"No refills were due in {month}."
    if _hidden(rate):
        return f"On-time refills in {month}: {done} of {due} (the rate is left out: small numbers)."
    pct = Cell(float(rate), "pct").text()
    reading = _reading(content, "on_time_rate")
    return f"On-time refills {pct} in {month} ({Cell(done, 'count').text()} of {Cell(due, 'count').text()}), {reading}."


WHO_MAX_GROUPS = 4
"""A sentence names at most this many (what, site) groups; the rest are counted."""


def _who(frame: pd.DataFrame, what: str, where: str) -> str:
    """'baclofen, site B; 2 × morphine, site A' for the rows of a list; with more than
    WHO_MAX_GROUPS groups, the largest ones and 'and N more (see the tables)'."""
    names = frame[what].fillna("unknown").astype(str).str.replace("_", " ")
    sites = frame[where].fillna("unknown").astype(str)
    pairs = sorted(zip(names, sites, strict=True))
    counts = {pair: pairs.count(pair) for pair in dict.fromkeys(pairs)}
    shown = list(counts)
    if len(shown) > WHO_MAX_GROUPS:
        shown = sorted(shown, key=lambda p: (-counts[p], p))[:WHO_MAX_GROUPS]
    bits = [f"{'' if counts[p] == 1 else f'{counts[p]} × '}{p[0]}, site {p[1]}" for p in shown]
    rest = sum(counts.values()) - sum(counts[p] for p in shown)
    if rest:
        bits.append(f"and {rest} more (see the tables)")
    return "; ".join(bits)


def ran_dry(content: Content) -> str:
    row = content.this_month
    missed, overdue = row["missed"], row["overdue"]
    if isinstance(missed, str) or content.lists_hidden:
        text = f"{count_of(missed, 'pump', start=True)} ran dry (fills due in the month)."
    elif missed == 0:
        text = "No pump ran dry."
    else:
        text = f"{count_of(missed, 'pump', start=True)} ran dry ({_who(content.missed, 'drug', 'site')})."
    if isinstance(overdue, str) or overdue > 0:
        text += f" {count_of(overdue, 'refill', start=True)} overdue at the cut-off (alarm passed, not dry yet)."
    return text


def complications(content: Content) -> str:
    row, month = content.this_month, content.meta.month.short
    n, rate = row["complications"], row["complication_rate_per_1000"]
    reading = _reading(content, "complication_rate_per_1000")
    if n == 0:
        return f"No complication reports in {month}; {reading}."
    if _hidden(rate):
        return f"Complication reports in {month}: {n} (the rate is left out: small numbers); {reading}."
    lo, hi = Cell(row["rate_ci_low"], "rate2").text(), Cell(row["rate_ci_high"], "rate2").text()
    reports = count_of(n, "report")
    return (
        f"Complication rate {Cell(float(rate), 'rate2').text()} per 1,000 pump-days "
        f"({reports}, 95 % CI {lo}–{hi}), {reading}."
    )


def serious(content: Content) -> str:
    n = content.list_counts.set_index("list").at["serious events", "count"]
    if not isinstance(n, str) and n == 0:
        return "No serious events reported."
    if isinstance(n, str) or content.lists_hidden:
        return f"{count_of(n, 'serious event', start=True)} reported."
    return f"{count_of(n, 'serious event', start=True)} reported ({_who(content.serious, 'complication', 'site')})."


def refill_quality(content: Content) -> str:
    total = content.quality[content.quality["group"] == "all"]
    if total.empty:
        return "No fills in the month."
    row = total.iloc[0]
    errors = count_of(row["refill_errors"], "refill-error report")
    flags = count_of(row["residual_flags"], "residual discrepancy", "residual discrepancies")
    checked = count_of(row["refills_with_residuals"], "refill")
    return f"{errors[0].upper() + errors[1:]}; {flags} among {checked} with residuals recorded."


def funnel(content: Content) -> str:
    f = content.funnel
    flagged = f[f["signal"].fillna("").astype(str).str.contains("99.8")] if not f.empty else f
    if flagged.empty:
        return "No site outside the 99.8 % funnel limits of the complication rate over 12 months."
    bits = [f"site {r['group']} {r['signal']}" for r in flagged.to_dict("records")]
    return f"Complication rate over 12 months: {'; '.join(bits)} of the funnel."


def changes(content: Content) -> str:
    month = content.meta.month.month
    n = sum(1 for a in content.annotations if a.change_date.strftime("%Y-%m") == month)
    return f"{count_of(n, 'process change', start=True)} logged this month."


def data_quality(content: Content) -> str:
    dq = content.data_quality
    unknown = dq[(dq["check"] == "unknown due date") & (dq["detail"] == "fills dated in the month")]
    quarantined = dq[dq["check"] == "quarantined rows"]["count"]
    visible = [v for v in quarantined if not isinstance(v, str)]
    q_text = (
        count_of(sum(visible), "row")
        if len(visible) == len(quarantined)
        else "some rows (small counts hidden)"
    )
    fills = count_of(unknown["count"].iloc[0], "fill", start=True)
    return f"{fills} of the month with an unknown due date; {q_text} in quarantine."


def summary(content: Content) -> tuple[str, ...]:
    """The summary sentences, in the order of the report's sections."""
    return tuple(
        f(content)
        for f in (
            on_time,
            ran_dry,
            complications,
            serious,
            refill_quality,
            funnel,
            changes,
            data_quality,
        )
    )
