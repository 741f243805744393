-- The visit order: every visit in the order of METRICS.md, with the values in force,
-- its episode, the programmed daily volume in force and its fill group.
-- Two window passes over one ordering (patient, date, same-day rank, visit id), on
-- integer patient keys, so the whole table is sorted as few times as possible.
-- Every window looks only at earlier visits (except next_visit_date), so the result
-- for a cut-off is this table filtered to visit_date <= as_of: ingest stores it as
-- `engine_visits` and `prepare` only filters it (engine.py).
WITH patients AS (
    SELECT patient_id, CAST(row_number() OVER (ORDER BY patient_id) AS BIGINT) AS pid
    FROM (SELECT DISTINCT patient_id FROM visits)
),
base AS (
    SELECT p.pid, v.patient_id, v.visit_id, v.visit_date, v.visit_type,
           CASE v.visit_type
               WHEN 'trial' THEN 0 WHEN 'implant' THEN 1 WHEN 'replacement' THEN 2
               WHEN 'refill' THEN 3 WHEN 'reprogram' THEN 4 WHEN 'follow_up' THEN 5
               WHEN 'unscheduled' THEN 6 WHEN 'revision' THEN 7 WHEN 'explant' THEN 8
               WHEN 'discharge' THEN 9 END AS type_rank,
           v.site, v.clinician, v.pump_model, v.reservoir_ml, v.drug, v.concentration_mg_ml,
           v.daily_dose_mg, v.daily_rate_ml, v.volume_added_ml, v.expected_residual_ml,
           v.actual_residual_ml, v.alarm_ml, v.next_refill_due, v.indication
    FROM visits v JOIN patients p USING (patient_id)
),
pass1 AS (
    SELECT *,
           row_number() OVER w AS seq,
           visit_type IN ('explant', 'discharge') AS is_close,
           visit_type IN ('implant', 'refill', 'replacement') OR coalesce(volume_added_ml, 0) > 0
               AS is_fillish,
           coalesce(sum(CASE WHEN visit_type IN ('explant', 'discharge') THEN 1 ELSE 0 END) OVER (
               PARTITION BY pid ORDER BY visit_date, type_rank, visit_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS close_grp,
           sum(CASE WHEN visit_type IN ('implant', 'refill', 'replacement')
                         OR coalesce(volume_added_ml, 0) > 0 THEN 1 ELSE 0 END) OVER w AS fill_grp,
           first_value(visit_type) OVER w AS first_type,
           last_value(pump_model IGNORE NULLS) OVER w AS pump_model_if,
           last_value(reservoir_ml IGNORE NULLS) OVER w AS reservoir_if,
           last_value(drug IGNORE NULLS) OVER w AS drug_if,
           last_value(concentration_mg_ml IGNORE NULLS) OVER w AS concentration_if,
           last_value(daily_dose_mg IGNORE NULLS) OVER w AS dose_if,
           last_value(indication IGNORE NULLS) OVER w AS indication_if,
           last_value(clinician IGNORE NULLS) OVER w AS clinician_if
    FROM base
    -- visit ids are unique, so the default frame (up to the current row) has no peers
    WINDOW w AS (PARTITION BY pid ORDER BY visit_date, type_rank, visit_id)
),
flagged AS (
    SELECT *,
           visit_type = 'implant' OR (seq = 1 AND visit_type NOT IN ('trial', 'implant')) AS is_open,
           CASE WHEN daily_rate_ml IS NOT NULL OR daily_dose_mg IS NOT NULL OR concentration_mg_ml IS NOT NULL
                THEN struct_pack(r := coalesce(daily_rate_ml, dose_if / concentration_if)) END AS rate_set
    FROM pass1
),
pass2 AS (
    SELECT *,
           max(CASE WHEN is_open THEN seq END) OVER w2 AS last_open_seq,
           max(CASE WHEN is_close THEN seq END) OVER (
               PARTITION BY pid ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS last_close_before,
           last_value(alarm_ml IGNORE NULLS) OVER w2 AS last_alarm,
           max(CASE WHEN alarm_ml IS NOT NULL THEN seq END) OVER w2 AS last_alarm_seq,
           max(CASE WHEN visit_type IN ('implant', 'replacement') THEN seq END) OVER w2 AS last_pump_seq,
           last_value(rate_set IGNORE NULLS) OVER w2 AS rate_last,
           lead(visit_date) OVER w2 AS next_visit_date
    FROM flagged
    WINDOW w2 AS (PARTITION BY pid ORDER BY seq)
)
SELECT pid, patient_id, visit_id, visit_date, visit_type, type_rank, seq, site, clinician,
       pump_model, reservoir_ml, drug, concentration_mg_ml, daily_dose_mg, daily_rate_ml,
       volume_added_ml, expected_residual_ml, actual_residual_ml, alarm_ml, next_refill_due, indication,
       pump_model_if, reservoir_if, drug_if, concentration_if, dose_if, indication_if, clinician_if,
       is_close, is_open, first_type, close_grp,
       in_ep,
       CASE WHEN in_ep THEN pid * 1000000 + close_grp END AS episode_id,
       in_ep AND is_fillish AS is_fill,
       fill_grp,
       CASE WHEN last_alarm_seq >= coalesce(last_pump_seq, 0) THEN last_alarm END AS alarm_if,
       rate_last.r AS rate_if,
       next_visit_date,
       next_visit_date IS DISTINCT FROM visit_date AS last_of_day,
       pid * 1000000 + seq AS vkey
FROM (
    SELECT *, last_open_seq IS NOT NULL AND last_open_seq > coalesce(last_close_before, 0) AS in_ep
    FROM pass2
)
