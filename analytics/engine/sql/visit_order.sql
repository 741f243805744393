-- The visit order: every visit in the same-day order of definitions.md, with the values in force,
-- its episode, the programmed daily volume in force and its fill group.
-- ONE window pass over one ordering (patient, date, same-day rank, visit id), on
-- integer patient keys: the table is sorted once. Whatever depends on an earlier
-- result of the same ordering is carried as an "event" whose last value is taken
-- (below), so no second pass is needed.
-- Every window looks only at earlier visits (except next_visit_date), so the result
-- for a cut-off is this table filtered to visit_date <= as_of: ingest stores it as
-- `engine_visits` and `prepare` only filters it (engine.py).
-- Patient keys (pid) come from {patients} (engine_patients: a patient keeps the key it
-- was first given, so that visit and episode keys stay the same from ingest to ingest).
-- {visits} is the visits table, or (an incremental ingest, engine/incremental.py) the
-- visits of the patients new rows touch, from the first date they change; {seeds} is
-- then, for each such patient, the state after the last visit kept before that date
-- (its place, close and fill counts, episode state and values in force), and every
-- count and carried value below goes on from it. With no seed (a full build) they start
-- from nothing. Either way the rows are those a full build gives (tests/test_incremental.py).
WITH base AS (
    SELECT p.pid, v.patient_id, v.visit_id, v.visit_date, v.visit_type,
           CASE v.visit_type
               WHEN 'trial' THEN 0 WHEN 'implant' THEN 1 WHEN 'replacement' THEN 2
               WHEN 'refill' THEN 3 WHEN 'reprogram' THEN 4 WHEN 'follow_up' THEN 5
               WHEN 'unscheduled' THEN 6 WHEN 'revision' THEN 7 WHEN 'explant' THEN 8
               WHEN 'discharge' THEN 9 END AS type_rank,
           v.site, v.clinician, v.pump_model, v.reservoir_ml, v.drug, v.concentration_mg_ml,
           v.daily_dose_mg, v.daily_rate_ml, v.volume_added_ml, v.expected_residual_ml,
           v.actual_residual_ml, v.alarm_ml, v.next_refill_due, v.indication, v.pump_implant_date,
           v.visit_type IN ('explant', 'discharge') AS is_close,
           v.visit_type IN ('implant', 'refill', 'replacement') OR coalesce(v.volume_added_ml, 0) > 0
               AS is_fillish,
           -- what a visit says about the episode of later visits: a close ends it, an
           -- implant opens one (the first visit's own opening rule is applied below)
           CASE WHEN v.visit_type IN ('explant', 'discharge') THEN FALSE
                WHEN v.visit_type = 'implant' THEN TRUE END AS episode_event,
           -- a recorded alarm volume holds until a new pump (implant, replacement) resets it
           CASE WHEN v.alarm_ml IS NOT NULL THEN struct_pack(a := v.alarm_ml)
                WHEN v.visit_type IN ('implant', 'replacement') THEN struct_pack(a := NULL::DOUBLE)
           END AS alarm_event,
           -- a visit that sets the rate, the dose or the concentration sets the daily volume:
           -- its own rate when recorded, else dose / concentration in force (below)
           CASE WHEN v.daily_rate_ml IS NOT NULL OR v.daily_dose_mg IS NOT NULL
                     OR v.concentration_mg_ml IS NOT NULL
                THEN struct_pack(r := v.daily_rate_ml) END AS rate_event
    FROM {visits} v JOIN {patients} p USING (patient_id)
),
ordered AS (
    SELECT *,
           row_number() OVER w AS seq_here,
           -- counts as BIGINT (sum() of integers would give HUGEINT: slower keys everywhere)
           CAST(coalesce(count(*) FILTER (WHERE is_close) OVER w_before, 0) AS BIGINT) AS closes_here,
           CAST(count(*) FILTER (WHERE is_fillish) OVER w AS BIGINT) AS fills_here,
           first_value(visit_type) OVER w AS first_type,
           last_value(episode_event IGNORE NULLS) OVER w_before AS episode_here,
           last_value(alarm_event IGNORE NULLS) OVER w AS alarm_here,
           last_value(rate_event IGNORE NULLS) OVER w AS rate_here,
           last_value(pump_model IGNORE NULLS) OVER w AS pump_model_here,
           last_value(reservoir_ml IGNORE NULLS) OVER w AS reservoir_here,
           last_value(drug IGNORE NULLS) OVER w AS drug_here,
           last_value(concentration_mg_ml IGNORE NULLS) OVER w AS concentration_here,
           last_value(daily_dose_mg IGNORE NULLS) OVER w AS dose_here,
           last_value(indication IGNORE NULLS) OVER w AS indication_here,
           last_value(clinician IGNORE NULLS) OVER w AS clinician_here,
           lead(visit_date) OVER w AS next_visit_date
    FROM base
    -- visit ids are unique, so the default frame (up to the current row) has no peers
    WINDOW w AS (PARTITION BY pid ORDER BY visit_date, type_rank, visit_id),
           w_before AS (PARTITION BY pid ORDER BY visit_date, type_rank, visit_id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
seeded AS (
    -- carried on from the seed (a patient's last visit kept), when there is one. A seed's
    -- episode state is known (never empty), so the first visit's rule is not needed; its
    -- alarm volume and daily volume in force stand for the last events before it (a later
    -- visit without an event of its own has exactly these values)
    SELECT o.*,
           coalesce(s.seq, 0) + o.seq_here AS seq,
           coalesce(s.close_grp, 0) + o.closes_here AS close_grp,
           coalesce(s.fill_grp, 0) + o.fills_here AS fill_grp,
           coalesce(o.episode_here, s.in_episode) AS episode_before,
           coalesce(o.alarm_here, CASE WHEN s.pid IS NOT NULL THEN struct_pack(a := s.alarm_if) END)
               AS alarm_last,
           coalesce(o.rate_here, CASE WHEN s.pid IS NOT NULL THEN struct_pack(r := s.rate_if) END)
               AS rate_last,
           coalesce(o.pump_model_here, s.pump_model_if) AS pump_model_if,
           coalesce(o.reservoir_here, s.reservoir_if) AS reservoir_if,
           coalesce(o.drug_here, s.drug_if) AS drug_if,
           coalesce(o.concentration_here, s.concentration_if) AS concentration_if,
           coalesce(o.dose_here, s.dose_if) AS dose_if,
           coalesce(o.indication_here, s.indication_if) AS indication_if,
           coalesce(o.clinician_here, s.clinician_if) AS clinician_if
    FROM ordered o LEFT JOIN {seeds} s USING (pid)
),
flagged AS (
    SELECT *,
           visit_type = 'implant' OR (seq = 1 AND visit_type NOT IN ('trial', 'implant')) AS is_open
    FROM seeded
),
episodes AS (
    -- in an episode: this visit opens one, or the last open/close event before it was an
    -- open; with no such event, the first visit opened one when it was not a trial
    -- (a left-truncated log starting mid-therapy)
    SELECT *,
           is_open OR coalesce(episode_before, first_type NOT IN ('trial', 'implant')) AS in_ep
    FROM flagged
)
SELECT pid, patient_id, visit_id, visit_date, visit_type, seq, site,
       concentration_mg_ml, daily_dose_mg, daily_rate_ml,
       volume_added_ml, expected_residual_ml, actual_residual_ml, next_refill_due, pump_implant_date,
       pump_model_if, reservoir_if, drug_if, concentration_if, dose_if, indication_if, clinician_if,
       is_close, is_open, close_grp,
       in_ep,
       CASE WHEN in_ep THEN pid * 1000000 + close_grp END AS episode_id,
       in_ep AND is_fillish AS is_fill,
       fill_grp,
       alarm_last.a AS alarm_if,
       CASE WHEN rate_last IS NOT NULL
            -- dose and concentration in force have not changed since the rate event (any
            -- visit recording one is itself a rate event). A concentration near 0 (any
            -- value above 0 is allowed) gives a huge or infinite quotient: held at a
            -- million mL a day, which empties any reservoir on the day, as the true one
            -- (not least(): it skips NULLs, and an unknown dose must stay unknown)
            THEN coalesce(rate_last.r, CASE WHEN dose_if / concentration_if > 1e6 THEN 1e6
                                            ELSE dose_if / concentration_if END) END AS rate_if,
       next_visit_date,
       next_visit_date IS DISTINCT FROM visit_date AS last_of_day,
       pid * 1000000 + seq AS vkey
FROM episodes
