-- pq_procedures: one row per surgical procedure with its outcome windows
-- (procedure-anchored surgical outcomes).
-- A procedure is an implant, replacement or revision visit inside a therapy episode;
-- several of one patient on one day are one procedure, with the type and values of the
-- day's last (visit order). Its group values: the visit's own site and the values in
-- force (clinician, drug, pump model, indication).
-- Outcome windows (cfg_outcome_windows, from the vocabulary: window id, code, days): a
-- report of a window's code dated on or before $as_of is attributed to the patient's
-- latest procedure on or before the report's date, when it falls within that window
-- (day 0 = the procedure, day `days` included), inside an episode or not (an infection
-- reported after the explant it caused still counts). A later procedure therefore takes
-- over the reports after it.
-- A window still open at $as_of (procedure date + days > as_of) is flagged: such
-- procedures are counted apart, never in a rate.
-- For an earlier cut-off the stored rows are narrowed instead (reuse.sql).
-- {complications}: the complications table (or, for an incremental ingest, the reports
-- of the patients whose figures are computed again: engine/incremental.py).
-- The window ids below are the vocabulary's OUTCOME_WINDOWS (tests/test_surgical.py).
CREATE OR REPLACE TEMP TABLE pq_procedures AS
WITH procs AS (
    -- the day's last procedure visit of each patient (one pass, no self-join)
    SELECT unnest(arg_max({'patient_id': patient_id, 'episode_id': episode_id,
                           'procedure_visit_id': visit_id, 'procedure_date': visit_date,
                           'procedure_type': visit_type, 'site': site, 'clinician': clinician_if,
                           'drug': drug_if, 'pump_model': pump_model_if,
                           'indication': indication_if}, seq))
    FROM pq_visits
    WHERE in_ep AND visit_type IN ('implant', 'replacement', 'revision')
    GROUP BY pid, visit_date
),
windows AS (
    SELECT window_id, CAST(max(days) AS INTEGER) AS days FROM cfg_outcome_windows GROUP BY window_id
),
outcome_reports AS (
    SELECT c.report_id, c.patient_id, c.report_date, w.window_id, w.days
    FROM {complications} c JOIN cfg_outcome_windows w ON w.complication = c.complication
    WHERE c.report_date <= CAST($as_of AS DATE)
),
attributed AS (
    -- the latest procedure whose window covers the report (when any covers it, the
    -- latest procedure on or before the report does: it is the nearest)
    SELECT r.patient_id, max(p.procedure_date) AS procedure_date, r.window_id,
           {'d': r.report_date, 'id': r.report_id} AS report
    FROM outcome_reports r
    JOIN procs p ON p.patient_id = r.patient_id AND p.procedure_date <= r.report_date
     AND r.report_date - p.procedure_date <= r.days
    GROUP BY r.patient_id, r.window_id, r.report_date, r.report_id
),
outcomes AS (
    -- the first attributed report of each window (date, then report id)
    SELECT patient_id, procedure_date,
           min(report) FILTER (WHERE window_id = 'superficial_30d') AS superficial_30d_first,
           min(report) FILTER (WHERE window_id = 'deep_90d') AS deep_90d_first
    FROM attributed
    GROUP BY patient_id, procedure_date
),
ends AS (
    SELECT p.*,
           p.procedure_date + (SELECT days FROM windows WHERE window_id = 'superficial_30d')
               AS superficial_30d_end,
           p.procedure_date + (SELECT days FROM windows WHERE window_id = 'deep_90d')
               AS deep_90d_end
    FROM procs p
)
SELECT e.*,
       o.superficial_30d_first IS NOT NULL AS superficial_30d,
       o.superficial_30d_first['id'] AS superficial_30d_report_id,
       o.superficial_30d_first['d'] AS superficial_30d_date,
       e.superficial_30d_end > CAST($as_of AS DATE) AS superficial_30d_open,
       o.deep_90d_first IS NOT NULL AS deep_90d,
       o.deep_90d_first['id'] AS deep_90d_report_id,
       o.deep_90d_first['d'] AS deep_90d_date,
       e.deep_90d_end > CAST($as_of AS DATE) AS deep_90d_open
FROM ends e
LEFT JOIN outcomes o USING (patient_id, procedure_date)
