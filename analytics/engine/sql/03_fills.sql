-- pq_fill_base: one row per fill with its next fill, recorded due date, volume,
-- alarm volume and stability cap (config tables cfg_caps, cfg_model_alarm, cfg_zico_vials).
-- Caps and model alarms are worked out once per distinct drug / pump model.
-- {fill_visits} is pq_visits, or (stored figures reused for an earlier cut-off)
-- pq_fill_visits, the visits of the fill groups computed again (reuse_fill_visits.sql);
-- {open_fills_only} is then not empty and keeps only the fills of pq_reopen: at most the
-- last fill of each episode by the cut-off, whose next fill among the kept fills is then
-- correctly empty (engine/tables.py).
CREATE OR REPLACE TEMP TABLE pq_fill_base AS
WITH undiluted_strengths AS (
    -- ziconotide alone at a supplied vial strength (within $zico_vial_tol mg/mL) is
    -- undiluted; any other concentration, an unknown one or a mixture is diluted
    SELECT DISTINCT z.concentration
    FROM (SELECT DISTINCT concentration_if AS concentration FROM {fill_visits}
          WHERE is_fill AND drug_if = 'ziconotide' AND concentration_if IS NOT NULL) z
    JOIN cfg_zico_vials v ON abs(z.concentration - v.mg_ml) <= $zico_vial_tol
),
fills AS (
    -- only the columns the later stages read (this table is held in memory)
    SELECT vkey AS fkey, patient_id, episode_id, visit_id AS fill_visit_id, visit_date AS fill_date,
           visit_type AS fill_type, fill_grp, site,
           pump_model_if AS pump_model, reservoir_if AS reservoir_ml, drug_if AS drug,
           indication_if AS indication, clinician_if AS clinician,
           volume_added_ml, alarm_if, rate_if AS rate_at_fill,
           expected_residual_ml, actual_residual_ml,
           coalesce(drug_if = 'ziconotide'
                    AND concentration_if IN (SELECT concentration FROM undiluted_strengths), FALSE)
               AS undiluted,
           n.next_fill_date
    FROM {fill_visits}
    -- the next fill of the episode: every fill-like visit of a patient raises fill_grp by
    -- one and every visit between two fills of an episode is in it, so the next fill is
    -- the episode's fill of fill_grp + 1. A hash join of two narrow inputs, not a sort
    -- of the fills: the same rows as lead(visit_date) OVER (PARTITION BY episode_id
    -- ORDER BY seq) over the kept fills
    LEFT JOIN (SELECT a.vkey AS nkey, b.visit_date AS next_fill_date
               FROM (SELECT vkey, episode_id, fill_grp FROM {fill_visits} WHERE is_fill {open_fills_only}) a
               JOIN (SELECT episode_id, fill_grp, visit_date FROM {fill_visits} WHERE is_fill {open_fills_only}) b
                 ON b.episode_id = a.episode_id AND b.fill_grp = a.fill_grp + 1) n ON n.nkey = vkey
    WHERE is_fill {open_fills_only}
),
recorded AS (
    SELECT episode_id, fill_grp, arg_max(next_refill_due, seq) AS recorded_due
    FROM {fill_visits}
    WHERE in_ep AND next_refill_due IS NOT NULL
    GROUP BY episode_id, fill_grp
),
drug_kinds AS (
    -- of every fill (a superset of the kept ones): `fills` is then read once, and streams
    SELECT DISTINCT drug_if AS drug, visit_type IN ('implant', 'replacement') AS new_pump,
           coalesce(drug_if = 'ziconotide'
                    AND concentration_if IN (SELECT concentration FROM undiluted_strengths), FALSE)
               AS undiluted
    FROM {fill_visits} WHERE is_fill
),
parts AS (
    SELECT drug, new_pump, undiluted, trim(p.part) AS part
    FROM drug_kinds, unnest(string_split(coalesce(drug, ''), '+')) AS p(part)
),
caps AS (
    -- ziconotide: a new pump's first fill has its own cap, then undiluted (alone, at a
    -- vial strength) or diluted (cfg_caps); a mixture takes the shortest cap of its parts
    SELECT parts.drug, parts.new_pump, parts.undiluted,
           min(CASE WHEN parts.part = 'ziconotide' AND parts.new_pump THEN $zico_first_cap
                    WHEN parts.part = 'ziconotide' AND parts.undiluted THEN $zico_undiluted_cap
                    ELSE coalesce(c.cap_days, $default_cap) END) AS cap_days
    FROM parts LEFT JOIN cfg_caps c ON c.drug = parts.part
    GROUP BY parts.drug, parts.new_pump, parts.undiluted
),
model_alarm AS (
    SELECT d.pump_model, arg_max(m.alarm_ml, length(m.pattern)) AS model_alarm_ml
    FROM (SELECT DISTINCT pump_model_if AS pump_model FROM {fill_visits} WHERE is_fill AND pump_model_if IS NOT NULL) d
    JOIN cfg_model_alarm m ON contains(lower(d.pump_model), m.pattern)
    GROUP BY d.pump_model
)
SELECT f.* EXCLUDE (undiluted),
       -- DuckDB's least() skips NULLs: an unknown volume must stay unknown
       CASE WHEN f.volume_added_ml IS NOT NULL AND f.reservoir_ml IS NOT NULL
            THEN least(f.volume_added_ml, f.reservoir_ml) ELSE f.volume_added_ml END AS start_volume_ml,
       coalesce(f.alarm_if, ma.model_alarm_ml, $default_alarm) AS alarm_volume_ml,
       r.recorded_due,
       coalesce(c.cap_days, $default_cap) AS cap_days,
       f.fill_date + CAST(coalesce(c.cap_days, $default_cap) AS INTEGER) AS cap_date
FROM fills f
LEFT JOIN recorded r ON r.episode_id = f.episode_id AND r.fill_grp = f.fill_grp
LEFT JOIN caps c ON c.drug IS NOT DISTINCT FROM f.drug
                AND c.new_pump = (f.fill_type IN ('implant', 'replacement'))
                AND c.undiluted = f.undiluted
LEFT JOIN model_alarm ma ON ma.pump_model = f.pump_model
