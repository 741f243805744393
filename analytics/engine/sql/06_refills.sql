-- pq_refills: due date (recorded > computed, capped by stability), empty date, status,
-- days late, dry days and flags of every fill as of $as_of.
-- NOT MATERIALIZED: a CTE read twice (capped, by need_fallback and fallback) would be
-- copied whole, every column of every fill; inlined, the fallback reads only the few
-- columns it needs, and the rest streams. The segments scanned by the ASOF join are
-- only those of fills needing the fallback (usually none).
CREATE OR REPLACE TEMP TABLE pq_refills AS
WITH dates AS NOT MATERIALIZED (
    SELECT b.*, v.alarm_state, v.empty_state,
           CASE WHEN v.alarm_state = 'date'
                THEN b.fill_date + CAST(floor(v.alarm_days + 1e-7) AS INTEGER) END AS computed_due,
           CASE WHEN v.empty_state = 'date'
                THEN b.fill_date + CAST(floor(v.empty_days + 1e-7) AS INTEGER) END AS volume_empty
    FROM pq_fill_base b LEFT JOIN pq_fill_volume v USING (fkey)
),
due AS NOT MATERIALIZED (
    SELECT *,
           coalesce(recorded_due, computed_due) AS uncapped_due,
           CASE WHEN recorded_due IS NOT NULL THEN 'recorded'
                WHEN computed_due IS NOT NULL THEN 'computed'
                WHEN alarm_state = 'never' THEN 'never' END AS uncapped_source
    FROM dates
),
capped AS NOT MATERIALIZED (
    SELECT *,
           CASE WHEN uncapped_source = 'never' THEN cap_date
                WHEN uncapped_source IS NOT NULL THEN least(uncapped_due, cap_date) END AS due_date,
           CASE WHEN uncapped_source = 'never' THEN 'stability_cap'
                WHEN uncapped_source IS NOT NULL AND cap_date < uncapped_due THEN 'stability_cap'
                ELSE uncapped_source END AS due_source
    FROM due
),
need_fallback AS NOT MATERIALIZED (
    SELECT fkey, uncapped_due FROM capped WHERE empty_state = 'unknown' AND uncapped_due IS NOT NULL
),
fallback_rate AS NOT MATERIALIZED (
    -- the daily volume in force on the uncapped due date, only for fills whose empty date
    -- cannot be followed from the volume (the empty-date fallback)
    SELECT n.fkey, s.r AS rate_at_due
    FROM need_fallback n
    ASOF JOIN (SELECT * FROM pq_fill_segments WHERE fkey IN (SELECT fkey FROM need_fallback)) s ON s.fkey = n.fkey AND n.uncapped_due >= s.d
),
fallback AS NOT MATERIALIZED (
    SELECT c.*, f.rate_at_due FROM capped c LEFT JOIN fallback_rate f USING (fkey)
),
empty AS (
    SELECT *,
           CASE WHEN due_date IS NULL THEN NULL
                WHEN empty_state = 'date' THEN volume_empty
                WHEN empty_state = 'never' THEN NULL
                WHEN uncapped_due IS NULL THEN NULL
                -- a daily volume so small that the alarm volume lasts beyond the last
                -- day a date can hold never runs dry (as a daily volume of 0)
                WHEN rate_at_due > 0
                     AND alarm_volume_ml / rate_at_due <= CAST($calendar_end AS DATE) - uncapped_due
                    THEN uncapped_due + CAST(floor(alarm_volume_ml / rate_at_due + 1e-7) AS INTEGER)
                WHEN rate_at_due >= 0 THEN NULL
                ELSE uncapped_due END AS empty_raw
    FROM fallback
),
bounded AS (
    SELECT e.*,
           CASE WHEN empty_raw IS NOT NULL THEN greatest(empty_raw, due_date) END AS empty_date,
           due_date + CAST($grace AS INTEGER) AS due_grace,
           ep.end_date AS episode_end
    FROM empty e JOIN pq_episodes ep USING (episode_id)
),
status AS (
    SELECT *,
           CASE WHEN due_date IS NULL THEN 'unknown'
                WHEN next_fill_date IS NOT NULL THEN
                    CASE WHEN next_fill_date <= due_grace THEN 'on_time'
                         WHEN empty_date IS NULL OR next_fill_date <= empty_date THEN 'late'
                         ELSE 'missed' END
                WHEN episode_end IS NOT NULL AND episode_end <= due_grace THEN 'not_due'
                WHEN CAST($as_of AS DATE) <= due_grace THEN 'pending'
                WHEN empty_date IS NULL OR coalesce(episode_end, CAST($as_of AS DATE)) <= empty_date
                    THEN 'overdue'
                ELSE 'missed' END AS status,
           coalesce(next_fill_date, episode_end, CAST($as_of AS DATE)) AS status_end
    FROM bounded
)
-- only what the product reads (a narrow table: it is the largest the engine keeps)
SELECT fkey, patient_id, episode_id, fill_visit_id, fill_date, fill_type, site, drug, pump_model,
       indication, clinician, reservoir_ml, volume_added_ml, start_volume_ml, alarm_volume_ml,
       rate_at_fill, recorded_due, computed_due, cap_days, cap_date, due_date, due_source,
       empty_date, next_fill_date, episode_end, status,
       CASE status
           WHEN 'unknown' THEN NULL
           WHEN 'late' THEN status_end - due_date
           WHEN 'missed' THEN status_end - due_date
           WHEN 'overdue' THEN status_end - due_date
           ELSE 0 END AS days_late,
       CASE status
           WHEN 'unknown' THEN NULL
           WHEN 'missed' THEN status_end - empty_date
           ELSE 0 END AS dry_days,
       coalesce(status = 'on_time' AND next_fill_date < due_date - CAST($early AS INTEGER), FALSE) AS early,
       CASE WHEN fill_type NOT IN ('implant', 'replacement') AND expected_residual_ml IS NOT NULL
                 AND actual_residual_ml IS NOT NULL
            THEN actual_residual_ml - expected_residual_ml END AS residual_diff_ml,
       -- a vanishing expected residual (any value above 0 is allowed) would give an
       -- infinite percentage: blank, as for an expected residual of 0
       CASE WHEN fill_type NOT IN ('implant', 'replacement') AND expected_residual_ml > 0
                 AND actual_residual_ml IS NOT NULL
                 AND isfinite(100.0 * (actual_residual_ml - expected_residual_ml) / expected_residual_ml)
            THEN 100.0 * (actual_residual_ml - expected_residual_ml) / expected_residual_ml END
           AS residual_diff_pct,
       coalesce(abs(actual_residual_ml - expected_residual_ml) > $residual_tol, FALSE)
           AND fill_type NOT IN ('implant', 'replacement') AS residual_flag,
       coalesce(start_volume_ml < volume_added_ml, FALSE) AS overfilled
FROM status
