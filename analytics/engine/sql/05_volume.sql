-- pq_fill_volume: the day each fill's reservoir reaches the alarm volume and zero,
-- following the daily volume piece by piece. *_days are fractional days after the fill
-- date; *_state is 'date', 'never' (a daily volume of 0 at the end) or 'unknown'
-- (volume or a rate missing before the level is reached).
-- A level reached only after $calendar_end (the last day a date can hold: 9999-12-31)
-- counts as never reached: a vanishing daily volume (any value above 0 is allowed)
-- gives days beyond any date, or an infinite number, which are never turned into a date.
CREATE OR REPLACE TEMP TABLE pq_fill_volume AS
WITH segs AS (
    SELECT s.fkey, s.d, s.r, lead(s.d) OVER w AS next_d
    FROM pq_fill_segments s
    WINDOW w AS (PARTITION BY s.fkey ORDER BY s.d)
),
cum AS (
    SELECT s.fkey, s.d, s.r, s.next_d, f.fill_date, f.start_volume_ml AS v0, f.alarm_volume_ml AS a,
           CAST($calendar_end AS DATE) - f.fill_date AS horizon,
           coalesce(sum(s.r * (s.next_d - s.d)) OVER w_before, 0) AS used_before,
           coalesce(bool_or(s.r IS NULL) OVER w_before, FALSE) AS blocked_before
    FROM segs s JOIN pq_fill_base f USING (fkey)
    WINDOW w_before AS (PARTITION BY s.fkey ORDER BY s.d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
reach AS (
    SELECT *,
           CASE WHEN v0 IS NULL OR blocked_before THEN NULL
                WHEN v0 - used_before <= a + 1e-9 THEN CAST(d - fill_date AS DOUBLE)
                WHEN r > 0 AND (next_d IS NULL OR v0 - used_before - r * (next_d - d) <= a + 1e-9)
                    THEN (d - fill_date) + (v0 - used_before - a) / r
           END AS alarm_days,
           CASE WHEN v0 IS NULL OR blocked_before THEN NULL
                WHEN v0 - used_before <= 1e-9 THEN CAST(d - fill_date AS DOUBLE)
                WHEN r > 0 AND (next_d IS NULL OR v0 - used_before - r * (next_d - d) <= 1e-9)
                    THEN (d - fill_date) + (v0 - used_before) / r
           END AS empty_days
    FROM cum
)
SELECT fkey,
       CASE WHEN min(alarm_days) <= any_value(horizon) THEN min(alarm_days) END AS alarm_days,
       CASE WHEN min(empty_days) <= any_value(horizon) THEN min(empty_days) END AS empty_days,
       CASE WHEN min(alarm_days) <= any_value(horizon) THEN 'date'
            WHEN min(alarm_days) IS NOT NULL THEN 'never'
            WHEN bool_or(v0 IS NULL) OR bool_or(r IS NULL) THEN 'unknown'
            ELSE 'never' END AS alarm_state,
       CASE WHEN min(empty_days) <= any_value(horizon) THEN 'date'
            WHEN min(empty_days) IS NOT NULL THEN 'never'
            WHEN bool_or(v0 IS NULL) OR bool_or(r IS NULL) THEN 'unknown'
            ELSE 'never' END AS empty_state
FROM reach
GROUP BY fkey
