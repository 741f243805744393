"""The metric engine: set-based DuckDB SQL from visits and reports to fills, due dates,
statuses, exposure and rates.

    tables.py         the working tables (sql/*.sql), stored at ingest, per cut-off
    refills.py        one row per fill, episodes, the worklist as of the data's end
    worklist.py       the worklist as of today, the refill workload forecast
    battery.py        battery end of life: the plan, replaced before end of life
    dose_flags.py     dose and concentration above the maxima, large dose steps
    metrics.py        the monthly metrics table and its rate functions
    complications.py  complication rates by category, code, group; the funnel
    funnels.py        funnel limits (Poisson, binomial) and their overdispersion allowance
    survival.py       device survival: pump periods (sql/pump_periods.sql) and curves
    kaplan_meier.py   the Kaplan–Meier estimator with delayed entry
    intervals.py      exact confidence intervals
"""
