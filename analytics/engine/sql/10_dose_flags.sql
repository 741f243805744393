-- pq_dose_flags: one row per visit and dose-safety rule broken, as known on the cut-off
-- (settings: cfg_dose_max by drug, $step_up_pct).
-- Checked visits: every fill and every visit that programs a dose or a concentration,
-- inside a therapy episode, with the values in force after the visit. The contract
-- records the dose and concentration of the primary drug (a mixture's first part), so
-- the maxima are the primary drug's.
--   dose_above_max           daily dose in force > the drug's maximum (mg/day)
--   concentration_above_max  concentration in force > the drug's maximum (mg/mL)
--   dose_step_up             a recorded dose more than $step_up_pct % above the previous
--                            recorded dose of the same episode, when the drug in force is
--                            the same at both visits (a drug change starts afresh; a
--                            previous dose of 0 is not a step)
-- The rules are found on narrow integer and number columns; the few flagged visits are
-- then joined back to the visit order for what the list shows.
-- Built on demand (engine.py, `on_demand`) and stored by ingest for the data's end.
CREATE OR REPLACE TEMP TABLE pq_dose_flags AS
WITH maxima AS (
    -- the maxima of each drug in force (a mixture: its first part's), worked out once
    SELECT d.drug, m.dose_max, m.concentration_max
    FROM (SELECT DISTINCT drug_if AS drug FROM pq_visits WHERE in_ep AND drug_if IS NOT NULL) d
    JOIN cfg_dose_max m ON m.drug = lower(trim(split_part(d.drug, '+', 1)))
),
above AS (
    SELECT v.vkey, x.rule, x.maximum, NULL::DOUBLE AS previous_dose_mg
    FROM pq_visits v
    JOIN maxima m ON m.drug = v.drug_if,
    LATERAL (SELECT 'dose_above_max' AS rule, m.dose_max AS maximum WHERE v.dose_if > m.dose_max
             UNION ALL
             SELECT 'concentration_above_max', m.concentration_max
             WHERE v.concentration_if > m.concentration_max) x
    WHERE v.in_ep AND (v.is_fill OR v.daily_dose_mg IS NOT NULL OR v.concentration_mg_ml IS NOT NULL)
),
programmed AS (
    SELECT vkey, daily_dose_mg,
           lag(daily_dose_mg) OVER w AS previous_dose_mg,
           hash(drug_if) AS drug_key,
           lag(hash(drug_if)) OVER w AS previous_drug_key
    FROM pq_visits
    WHERE in_ep AND daily_dose_mg IS NOT NULL
    WINDOW w AS (PARTITION BY episode_id ORDER BY vkey)
),
steps AS (
    SELECT vkey, 'dose_step_up' AS rule,
           previous_dose_mg * (1 + CAST($step_up_pct AS DOUBLE) / 100) AS maximum, previous_dose_mg
    FROM programmed
    WHERE previous_dose_mg > 0 AND previous_drug_key = drug_key
      -- a relative tolerance: a step of exactly the threshold (0.4 -> 0.6 at 50 %) is not flagged
      AND 100 * (daily_dose_mg - previous_dose_mg) / previous_dose_mg > CAST($step_up_pct AS DOUBLE) + 1e-9
),
flags AS (SELECT * FROM above UNION ALL SELECT * FROM steps)
-- vkey (the visit's place in the visit order) orders the list and counts visits cheaply
SELECT f.vkey, v.patient_id, v.episode_id, v.visit_id, v.visit_date, v.visit_type, v.site,
       v.pump_model_if AS pump_model, v.indication_if AS indication, v.clinician_if AS clinician,
       v.drug_if AS drug, v.dose_if AS daily_dose_mg, v.concentration_if AS concentration_mg_ml,
       f.rule, f.maximum, f.previous_dose_mg,
       -- empty when the step is too large for a number (a previous dose near 0 mg/day)
       CASE WHEN isfinite(s.pct) THEN round(s.pct, 1) END AS step_up_pct
FROM flags f JOIN pq_visits v ON v.vkey = f.vkey,
LATERAL (SELECT CASE WHEN f.previous_dose_mg > 0
                     THEN 100 * (v.dose_if - f.previous_dose_mg) / f.previous_dose_mg END AS pct) s
