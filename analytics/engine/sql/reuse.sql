-- Figures as of an earlier cut-off (pq_cutoff) from the stored ones of the same
-- configuration: the rows a later visit cannot change are reused, the rest was computed
-- for the cut-off (engine.py, `_compute`). Views, so nothing large is copied.

-- A fill dated by the cut-off and not in pq_reopen (reuse_open_fills.sql) is final:
-- followed by another fill by the cut-off, its due and empty dates and status depend
-- only on visits up to that next fill; the last fill of an episode ended by the cut-off
-- is taken at that end. Only the episode's end is as known on the cut-off.
CREATE OR REPLACE TEMP VIEW pq_refills AS
SELECT * FROM pq_refills_open
UNION ALL BY NAME
SELECT * REPLACE (CASE WHEN episode_end <= (SELECT as_of FROM pq_cutoff) THEN episode_end END
                  AS episode_end)
FROM main.engine_cache_pq_refills
WHERE next_fill_date <= (SELECT as_of FROM pq_cutoff)
   OR (next_fill_date IS NULL AND episode_end <= (SELECT as_of FROM pq_cutoff));

-- Pump-days of the months before the cut-off's month: segments clipped at a month end
-- before the cut-off do not depend on later visits.
CREATE OR REPLACE TEMP VIEW pq_exposure AS
SELECT * FROM pq_exposure_open
UNION ALL BY NAME
SELECT * FROM main.engine_cache_pq_exposure
WHERE month_start < (SELECT exposure_from FROM pq_cutoff);

-- A report's episode, latest surgery and group values depend only on visits up to its
-- date (an episode ending after the cut-off was open on the report date either way).
CREATE OR REPLACE TEMP VIEW pq_reports AS
SELECT * FROM main.engine_cache_pq_reports
WHERE report_date <= (SELECT as_of FROM pq_cutoff);

-- A procedure's row depends only on visits up to its date, and a report is attributed
-- to the latest procedure on or before it whatever comes later: at the cut-off, a
-- window keeps its stored first report when that is dated by then (else it has no
-- outcome yet), and is open when it ends after the cut-off. The window ids are the
-- vocabulary's (tests/test_surgical.py).
CREATE OR REPLACE TEMP VIEW pq_procedures AS
SELECT p.* REPLACE (
    coalesce(superficial_30d_date <= c.as_of, FALSE) AS superficial_30d,
    CASE WHEN superficial_30d_date <= c.as_of THEN superficial_30d_report_id END
        AS superficial_30d_report_id,
    CASE WHEN superficial_30d_date <= c.as_of THEN superficial_30d_date END AS superficial_30d_date,
    superficial_30d_end > c.as_of AS superficial_30d_open,
    coalesce(deep_90d_date <= c.as_of, FALSE) AS deep_90d,
    CASE WHEN deep_90d_date <= c.as_of THEN deep_90d_report_id END AS deep_90d_report_id,
    CASE WHEN deep_90d_date <= c.as_of THEN deep_90d_date END AS deep_90d_date,
    deep_90d_end > c.as_of AS deep_90d_open)
FROM main.engine_cache_pq_procedures p, pq_cutoff c
WHERE p.procedure_date <= c.as_of;
