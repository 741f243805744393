-- pq_visits: every visit up to $as_of in the order of METRICS.md, with the values in
-- force, its episode, the programmed daily volume in force and its fill group.
CREATE OR REPLACE TEMP TABLE pq_visits AS
WITH base AS (
    SELECT *,
           CASE visit_type
               WHEN 'trial' THEN 0 WHEN 'implant' THEN 1 WHEN 'replacement' THEN 2
               WHEN 'refill' THEN 3 WHEN 'reprogram' THEN 4 WHEN 'follow_up' THEN 5
               WHEN 'unscheduled' THEN 6 WHEN 'revision' THEN 7 WHEN 'explant' THEN 8
               WHEN 'discharge' THEN 9 END AS type_rank
    FROM visits
    WHERE visit_date <= $as_of
),
ordered AS (
    SELECT *,
           row_number() OVER (PARTITION BY patient_id ORDER BY visit_date, type_rank, visit_id) AS seq
    FROM base
),
flagged AS (
    SELECT *,
           visit_type IN ('explant', 'discharge') AS is_close,
           visit_type = 'implant' OR (seq = 1 AND visit_type NOT IN ('trial', 'implant')) AS is_open,
           coalesce(sum(CASE WHEN visit_type IN ('explant', 'discharge') THEN 1 ELSE 0 END) OVER (
               PARTITION BY patient_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0
           ) AS close_grp,
           sum(CASE WHEN visit_type IN ('implant', 'replacement') THEN 1 ELSE 0 END) OVER (
               PARTITION BY patient_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS pump_grp,
           last_value(pump_model IGNORE NULLS) OVER w AS pump_model_if,
           last_value(reservoir_ml IGNORE NULLS) OVER w AS reservoir_if,
           last_value(drug IGNORE NULLS) OVER w AS drug_if,
           last_value(concentration_mg_ml IGNORE NULLS) OVER w AS concentration_if,
           last_value(daily_dose_mg IGNORE NULLS) OVER w AS dose_if,
           last_value(indication IGNORE NULLS) OVER w AS indication_if,
           last_value(clinician IGNORE NULLS) OVER w AS clinician_if,
           daily_rate_ml IS NOT NULL OR daily_dose_mg IS NOT NULL OR concentration_mg_ml IS NOT NULL
               AS is_rate_change
    FROM ordered
    WINDOW w AS (PARTITION BY patient_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
),
episodic AS (
    SELECT *,
           min(CASE WHEN is_open THEN seq END) OVER (PARTITION BY patient_id, close_grp) AS open_seq,
           last_value(alarm_ml IGNORE NULLS) OVER (
               PARTITION BY patient_id, pump_grp ORDER BY seq ROWS UNBOUNDED PRECEDING) AS alarm_if,
           CASE WHEN is_rate_change THEN
               struct_pack(r := coalesce(daily_rate_ml, dose_if / concentration_if)) END AS rate_set
    FROM flagged
),
in_episode AS (
    SELECT *,
           open_seq IS NOT NULL AND seq >= open_seq AS in_ep,
           last_value(rate_set IGNORE NULLS) OVER (
               PARTITION BY patient_id ORDER BY seq ROWS UNBOUNDED PRECEDING).r AS rate_if
    FROM episodic
),
episode_bounds AS (
    SELECT *,
           CASE WHEN in_ep THEN patient_id || ':' || open_seq END AS episode_id,
           CASE WHEN in_ep THEN in_ep AND (visit_type IN ('implant', 'refill', 'replacement')
                                           OR coalesce(volume_added_ml, 0) > 0)
                ELSE FALSE END AS is_fill
    FROM in_episode
)
SELECT *,
       CASE WHEN in_ep THEN sum(CASE WHEN is_fill THEN 1 ELSE 0 END) OVER (
           PARTITION BY episode_id ORDER BY seq ROWS UNBOUNDED PRECEDING) END AS fill_grp
FROM episode_bounds
