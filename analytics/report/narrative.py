"""The summary in plain sentences, each one built from a figure of the pack (as shown:
a hidden count reads '<11' and a figure derived from it is left out) or a signal of a
control chart: nothing is written that was not computed. The first sentence is the
safety headline about the patients now."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.figures import is_hidden
from analytics.figures.overview import row_of
from analytics.report.content import Content
from analytics.report.table import Cell

WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_of(value: Any, singular: str, plural: str | None = None, start: bool = False) -> str:
    """'two pumps', 'one pump', '<11 pumps', '— pumps', '1,234 fills' (capitalised at a
    sentence start)."""
    plural = plural or singular + "s"
    if isinstance(value, str):
        text = f"{value} {plural}"
    else:
        n = int(value)
        number = WORDS[n] if n < len(WORDS) else f"{n:,}"
        text = f"{number} {singular if n == 1 else plural}"
    return text[0].upper() + text[1:] if start else text


def _blank(value: Any) -> bool:
    return value is None or is_hidden(value) or (not isinstance(value, str) and pd.isna(value))


def _now(content: Content) -> pd.Series:
    o = content.overview
    assert o.rows is not None and o.period is not None
    return row_of(o.rows, o.period)


def _reading(content: Content, measure_id: str) -> str:
    chart = content.on_time if measure_id == "on_time_rate" else content.complications
    signal = chart.point_signal(content.overview.period or "") if chart.result is not None else ""
    if signal in ("", "none"):
        return (
            "within the usual range" if signal == "none" else "no chart statement (too few points)"
        )
    words = signal.replace("runs signal", "a non-random run on the chart")
    return words.replace(
        "above the upper limit", "above the upper control limit (a signal)"
    ).replace("below the lower limit", "below the lower control limit (a signal)")


def patients_now(content: Content) -> str:
    """The safety headline; nothing in a shared pack (its cover says why)."""
    return "" if content.headline is None else content.headline.sentence


def on_time(content: Content) -> str:
    row, label = _now(content), content.meta.period_label
    due, done, rate = row["refills_due"], row["on_time"], row["on_time_rate"]
    if due == 0:
        return f"No refills were due in {label}."
    if _blank(rate):
        return f"On-time refills in {label}: {done} of {due} (the rate is left out: small numbers)."
    pct = Cell(float(rate), "pct").text()
    return (
        f"On-time refills {pct} in {label} ({Cell(done, 'count').text()} of "
        f"{Cell(due, 'count').text()} due), {_reading(content, 'on_time_rate')}."
    )


def ran_dry(content: Content) -> str:
    """The adherence figure of the period, labelled as such (the patients now are the
    first sentence)."""
    row, label = _now(content), content.meta.period_label
    missed = row["missed"]
    if not isinstance(missed, str) and missed == 0:
        return (
            f"Adherence: none of the refills due in {label} ran dry (computed) before its refill."
        )
    who = ""
    if content.missed is not None and not content.missed.empty:
        who = f" ({_who(content.missed.frame, 'drug', 'site')})"
    return (
        f"Adherence: {count_of(missed, 'refill')} due in {label} ran dry (computed) before "
        f"the refill{who}."
    )


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


def complications(content: Content) -> str:
    row, label = _now(content), content.meta.period_label
    n, rate = row["complications"], row["complication_rate_per_1000"]
    reading = _reading(content, "complication_rate_per_1000")
    if not isinstance(n, str) and n == 0:
        return f"No complications reported in {label}; {reading}."
    if _blank(rate):
        return f"Complications in {label}: {n} (the rate is left out: small numbers); {reading}."
    lo, hi = Cell(row["rate_ci_low"], "rate2").text(), Cell(row["rate_ci_high"], "rate2").text()
    return (
        f"Complication rate {Cell(float(rate), 'rate2').text()} per 1,000 pump-days in {label} "
        f"({count_of(n, 'complication')}, 95 % CI {lo}–{hi}), {reading}."
    )


def serious(content: Content) -> str:
    n = content.serious_count
    if not isinstance(n, str) and n == 0:
        return "No serious events reported."
    if content.serious is None or content.serious.empty:
        return f"{count_of(n, 'serious event', start=True)} reported."
    who = _who(content.serious.frame, "complication", "site")
    return f"{count_of(n, 'serious event', start=True)} reported ({who})."


def refill_quality(content: Content) -> str:
    row = content.quality.frame.iloc[0]
    errors = count_of(row["refill_errors"], "refill-error report", start=True)
    flags = count_of(row["residual_flags"], "residual discrepancy", "residual discrepancies")
    checked = count_of(row["with_residuals"], "refill")
    return f"{errors}; {flags} among {checked} with both residual volumes recorded."


def funnel(content: Content) -> str:
    f = content.funnel.table.frame
    span = content.long_scope.label() if content.long_scope else content.meta.period_label
    if "signal" not in f or f.empty:
        return f"No funnel of sites for {span}."
    flagged = f[f["signal"].fillna("").astype(str).str.contains("99.8")]
    if flagged.empty:
        return f"No site outside the 99.8 % funnel limits of the complication rate ({span})."
    bits = [f"site {r['group']} {r['signal']}" for r in flagged.to_dict("records")]
    return f"Complication rate by site ({span}): {'; '.join(bits)} of the funnel."


def changes(content: Content) -> str:
    s = content.scope
    n = sum(1 for a in content.annotations if s.first <= a.change_date.strftime("%Y-%m") <= s.last)
    return f"{count_of(n, 'process change', start=True)} logged in {content.meta.period_label}."


def data_quality(content: Content) -> str:
    dq = content.data_quality.frame
    unknown = dq[
        (dq["check"] == "unknown due date") & (dq["detail"] == "fills dated in the period")
    ]
    quarantined = dq[dq["check"] == "quarantined rows"]["count"]
    visible = [v for v in quarantined if not isinstance(v, str)]
    q_text = (
        count_of(sum(visible), "row")
        if len(visible) == len(quarantined)
        else "some rows (small counts hidden)"
    )
    fills = count_of(unknown["count"].iloc[0], "fill", start=True)
    return f"{fills} of the period with an unknown due date; {q_text} in quarantine."


def summary(content: Content) -> tuple[str, ...]:
    """The summary sentences: the patients now first, then the period's figures."""
    sentences = (
        f(content)
        for f in (
            patients_now,
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
    return tuple(s for s in sentences if s)
