-- pq_reports: every complication report up to $as_of, with its episode (start <= date
-- <= end, an open episode to as_of; none for trials or after an explant), the latest
-- surgery (implant, replacement, revision) on or before it, and the group values in
-- force on its date (site: the report's own when recorded).
-- Events: reports of one patient and code whose gap to the previous report of that code
-- is at most $event_merge days (chained) are one complication event; the event is its
-- first report (event_start), and every report carries the event's id (its first
-- report's id) and date. Only earlier reports decide, so the table filtered to an
-- earlier cut-off is the table of that cut-off (reuse.sql).
-- {complications}: the complications table (or, for an incremental ingest, the reports
-- of the patients whose figures are computed again: engine/incremental.py); {visit_ids}:
-- the visits table (or the visits whose ids those reports name).
CREATE OR REPLACE TEMP TABLE pq_reports AS
WITH reported AS (
    SELECT DISTINCT patient_id FROM {complications} WHERE report_date <= $as_of
),
keys AS (
    -- the integer key of each patient with a report: the as-of join below sorts millions
    -- of visits by it far faster than by the text id. The filter is day_values' own:
    -- scanned again, as taking the keys from day_values made DuckDB keep its rows
    -- (0.2 s slower at 10M)
    SELECT DISTINCT patient_id, pid
    FROM pq_visits
    WHERE last_of_day AND patient_id IN (SELECT patient_id FROM reported)
),
day_values AS (
    -- the values in force after the last visit of each day (no grouping needed), of the
    -- patients with a report only (the as-of joins below match within a patient: the
    -- others' visits would only be sorted)
    SELECT pid, visit_date, site, drug_if AS drug, pump_model_if AS pump_model,
           indication_if AS indication, clinician_if AS clinician
    FROM pq_visits
    WHERE last_of_day AND patient_id IN (SELECT patient_id FROM reported)
),
surgeries AS (
    SELECT patient_id, visit_date AS surgery_date, arg_max(visit_type, seq) AS surgery_type
    FROM pq_visits
    WHERE in_ep AND visit_type IN ('implant', 'replacement', 'revision')
      AND patient_id IN (SELECT patient_id FROM reported)
    GROUP BY patient_id, visit_date
),
chained AS (
    SELECT *,
           coalesce(report_date - lag(report_date) OVER w > CAST($event_merge AS INTEGER), TRUE)
               AS event_start
    FROM {complications} WHERE report_date <= $as_of
    WINDOW w AS (PARTITION BY patient_id, complication ORDER BY report_date, report_id)
),
reports AS (
    SELECT *,
           last_value(CASE WHEN event_start THEN report_id END IGNORE NULLS) OVER w AS event_id,
           last_value(CASE WHEN event_start THEN report_date END IGNORE NULLS) OVER w AS event_date
    FROM chained
    WINDOW w AS (PARTITION BY patient_id, complication ORDER BY report_date, report_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
matched AS (
    SELECT r.report_id, arg_max(e.episode_id, e.start_date) AS episode_id,
           max(e.start_date) AS episode_start, bool_or(e.left_truncated) AS left_truncated
    FROM reports r JOIN pq_episodes e
      ON e.patient_id = r.patient_id AND r.report_date >= e.start_date
     AND r.report_date <= coalesce(e.end_date, CAST($as_of AS DATE))
    GROUP BY r.report_id
)
SELECT r.report_id, r.patient_id, r.report_date, r.complication, r.category, r.visit_id,
       r.severity, r.serious, r.action, r.event_id, r.event_start, r.event_date,
       m.episode_id, m.episode_start, m.episode_id IS NOT NULL AS in_episode,
       CASE WHEN m.episode_id IS NOT NULL AND s.surgery_date >= m.episode_start THEN s.surgery_date END
           AS surgery_date,
       CASE WHEN m.episode_id IS NOT NULL AND s.surgery_date >= m.episode_start THEN s.surgery_type END
           AS surgery_type,
       coalesce(r.site, d.site) AS site, d.drug, d.pump_model, d.indication, d.clinician,
       r.visit_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM {visit_ids} v WHERE v.visit_id = r.visit_id) AS unknown_visit
FROM reports r
LEFT JOIN matched m USING (report_id)
LEFT JOIN keys k ON k.patient_id = r.patient_id
ASOF LEFT JOIN day_values d ON d.pid = k.pid AND r.report_date >= d.visit_date
ASOF LEFT JOIN surgeries s ON s.patient_id = r.patient_id AND r.report_date >= s.surgery_date
