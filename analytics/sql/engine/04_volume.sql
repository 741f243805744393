-- pq_fill_volume: the day each fill's reservoir reaches the alarm volume and zero,
-- following the programmed daily volume piece by piece through every change between
-- the fill and the next fill (changes dated on or after the next fill never count).
-- *_days are fractional days after the fill date; *_state is 'date', 'never' (a daily
-- volume of 0 at the end) or 'unknown' (volume or a rate missing before the level).
CREATE OR REPLACE TEMP TABLE pq_fill_volume AS
WITH seg_points AS (
    SELECT f.fill_visit_id, v.visit_date AS d, arg_max(v.rate_if, v.seq) AS r
    FROM pq_fill_base f
    JOIN pq_visits v ON v.episode_id = f.episode_id AND v.fill_grp = f.fill_grp
    WHERE f.next_fill_date IS NULL OR v.visit_date < f.next_fill_date
    GROUP BY f.fill_visit_id, v.visit_date
),
segs AS (
    SELECT s.fill_visit_id, s.d, s.r,
           lead(s.d) OVER w AS next_d,
           f.fill_date, f.start_volume_ml AS v0, f.alarm_volume_ml AS a
    FROM seg_points s JOIN pq_fill_base f USING (fill_visit_id)
    WINDOW w AS (PARTITION BY s.fill_visit_id ORDER BY s.d)
),
cum AS (
    SELECT *,
           coalesce(sum(r * (next_d - d)) OVER w_before, 0) AS used_before,
           coalesce(bool_or(r IS NULL) OVER w_before, FALSE) AS blocked_before
    FROM segs
    WINDOW w_before AS (PARTITION BY fill_visit_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
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
SELECT fill_visit_id,
       min(alarm_days) AS alarm_days,
       min(empty_days) AS empty_days,
       CASE WHEN min(alarm_days) IS NOT NULL THEN 'date'
            WHEN bool_or(v0 IS NULL) OR bool_or(r IS NULL) THEN 'unknown'
            ELSE 'never' END AS alarm_state,
       CASE WHEN min(empty_days) IS NOT NULL THEN 'date'
            WHEN bool_or(v0 IS NULL) OR bool_or(r IS NULL) THEN 'unknown'
            ELSE 'never' END AS empty_state,
       list(struct_pack(d := d, r := r) ORDER BY d) AS rate_segments
FROM reach
GROUP BY fill_visit_id
