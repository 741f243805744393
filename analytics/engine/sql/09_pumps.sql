-- pq_pumps: one row per pump in place during a therapy episode (a pump period), as known
-- on the cut-off, with its implant date, model and battery end of life (cfg_battery).
-- A pump period starts at the episode's first visit and at every implant or replacement
-- of the episode (an implant during an open episode is a new pump); it ends at the next
-- one (the pump was replaced), at the episode's explant or discharge, or is still open.
-- Implant date: the visit's date when the period starts with an implant or replacement
-- visit, else the latest `pump_implant_date` recorded during the period (a pump implanted
-- before the data starts); else unknown. End of life = implant date + the model's
-- battery life in months (longest matching model pattern); none for other models.
-- Built on demand (engine.py, `on_demand`) and stored by ingest for the data's end.
CREATE OR REPLACE TEMP TABLE pq_pumps AS
WITH starts AS (
    SELECT pid, patient_id, episode_id, seq, visit_date, visit_type
    FROM pq_visits
    WHERE in_ep AND (is_open OR visit_type = 'replacement')
),
periods AS (
    SELECT *,
           row_number() OVER w AS pump_no,
           lead(seq) OVER w AS next_seq,
           lead(visit_date) OVER w AS next_date,
           lead(visit_type) OVER w AS next_type
    FROM starts
    WINDOW w AS (PARTITION BY episode_id ORDER BY seq)
),
ends AS (
    -- the episode's last visit known on the cut-off: its explant or discharge, or the
    -- patient's last visit (filtered first: only these rows are grouped)
    SELECT episode_id, max(seq) AS end_seq, arg_max(visit_date, seq) AS end_date,
           arg_max(visit_type, seq) AS end_type, bool_or(is_close) AS closed
    FROM pq_visits
    WHERE in_ep AND (is_close OR next_visit_date IS NULL)
    GROUP BY episode_id
),
bounds AS (
    SELECT p.*, coalesce(p.next_seq - 1, e.end_seq) AS last_seq,
           CASE WHEN p.next_seq IS NOT NULL THEN p.next_date
                WHEN e.closed THEN e.end_date END AS end_date,
           CASE WHEN p.next_seq IS NOT NULL THEN p.next_type
                WHEN e.closed THEN e.end_type END AS end_reason
    FROM periods p JOIN ends e USING (episode_id)
),
recorded AS (
    -- only for periods not started by a surgery visit (the rows recording a date are few)
    SELECT b.episode_id, b.seq, arg_max(v.pump_implant_date, v.seq) AS recorded_implant
    FROM bounds b
    JOIN (SELECT episode_id, seq, pump_implant_date FROM pq_visits
          WHERE in_ep AND pump_implant_date IS NOT NULL) v
      ON v.episode_id = b.episode_id AND v.seq BETWEEN b.seq AND b.last_seq
    WHERE b.visit_type NOT IN ('implant', 'replacement')
    GROUP BY b.episode_id, b.seq
),
last_values AS (
    -- the values in force at the period's last visit
    SELECT b.*, v.site, v.pump_model_if AS pump_model, v.drug_if AS drug,
           v.indication_if AS indication, v.clinician_if AS clinician
    FROM bounds b JOIN pq_visits v ON v.vkey = b.pid * 1000000 + b.last_seq
),
models AS (
    SELECT d.pump_model, arg_max(c.months, length(c.pattern)) AS battery_months
    FROM (SELECT DISTINCT pump_model FROM last_values WHERE pump_model IS NOT NULL) d
    JOIN cfg_battery c ON contains(lower(d.pump_model), c.pattern)
    GROUP BY d.pump_model
),
dated AS (
    SELECT l.*,
           CASE WHEN l.visit_type IN ('implant', 'replacement') THEN l.visit_date
                ELSE r.recorded_implant END AS implant_date,
           CASE WHEN l.visit_type IN ('implant', 'replacement') THEN l.visit_type
                WHEN r.recorded_implant IS NOT NULL THEN 'recorded' END AS implant_source,
           m.battery_months
    FROM last_values l
    LEFT JOIN recorded r ON r.episode_id = l.episode_id AND r.seq = l.seq
    LEFT JOIN models m ON m.pump_model = l.pump_model
)
SELECT patient_id, episode_id, pump_no, visit_date AS start_date, visit_type AS start_type,
       implant_date, implant_source, pump_model, battery_months,
       CAST(implant_date + to_months(battery_months) AS DATE) AS eol_date,
       CAST(implant_date + to_months(battery_months) AS DATE) - CAST($eri_days AS INTEGER) AS eri_date,
       end_date, end_reason, site, drug, indication, clinician
FROM dated
