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
-- Built on demand (engine.py, `on_demand`) and stored by ingest for the data's end.
CREATE OR REPLACE TEMP TABLE pq_dose_flags AS
WITH checked AS (
    SELECT v.patient_id, v.episode_id, v.visit_id, v.visit_date, v.visit_type, v.site,
           v.pump_model_if AS pump_model, v.indication_if AS indication, v.drug_if AS drug,
           v.dose_if AS daily_dose_mg, v.concentration_if AS concentration_mg_ml,
           m.dose_max, m.concentration_max
    FROM pq_visits v
    JOIN cfg_dose_max m ON m.drug = trim(split_part(v.drug_if, '+', 1))
    WHERE v.in_ep AND (v.is_fill OR v.daily_dose_mg IS NOT NULL OR v.concentration_mg_ml IS NOT NULL)
),
programmed AS (
    SELECT patient_id, episode_id, visit_id, visit_date, visit_type, site,
           pump_model_if AS pump_model, indication_if AS indication, drug_if AS drug,
           daily_dose_mg, concentration_if AS concentration_mg_ml,
           lag(daily_dose_mg) OVER w AS previous_dose_mg,
           lag(drug_if) OVER w AS previous_drug
    FROM pq_visits
    WHERE in_ep AND daily_dose_mg IS NOT NULL
    WINDOW w AS (PARTITION BY episode_id ORDER BY seq)
),
flags AS (
    SELECT patient_id, episode_id, visit_id, visit_date, visit_type, site, pump_model, indication,
           drug, daily_dose_mg, concentration_mg_ml, 'dose_above_max' AS rule, dose_max AS maximum,
           NULL::DOUBLE AS previous_dose_mg
    FROM checked WHERE daily_dose_mg > dose_max
    UNION ALL
    SELECT patient_id, episode_id, visit_id, visit_date, visit_type, site, pump_model, indication,
           drug, daily_dose_mg, concentration_mg_ml, 'concentration_above_max', concentration_max, NULL
    FROM checked WHERE concentration_mg_ml > concentration_max
    UNION ALL
    SELECT patient_id, episode_id, visit_id, visit_date, visit_type, site, pump_model, indication,
           drug, daily_dose_mg, concentration_mg_ml, 'dose_step_up',
           previous_dose_mg * (1 + CAST($step_up_pct AS DOUBLE) / 100), previous_dose_mg
    FROM programmed
    WHERE previous_dose_mg > 0 AND previous_drug IS NOT DISTINCT FROM drug
      -- a relative tolerance: a step of exactly the threshold (0.4 -> 0.6 at 50 %) is not flagged
      AND 100 * (daily_dose_mg - previous_dose_mg) / previous_dose_mg > CAST($step_up_pct AS DOUBLE) + 1e-9
)
SELECT *,
       CASE WHEN previous_dose_mg > 0
            THEN round(100 * (daily_dose_mg - previous_dose_mg) / previous_dose_mg, 1) END AS step_up_pct
FROM flags
