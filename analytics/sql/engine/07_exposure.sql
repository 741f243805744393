-- pq_exposure: pump-days per patient, month and the group values in force that day.
-- An episode covers [start, end): the start day counts, the end day does not; an open
-- episode counts up to and including $as_of. Months are split exactly at their bounds.
-- Only months from $exposure_from on are computed (the first day of time, or, when the
-- stored figures are reused for an earlier cut-off, the cut-off's month: engine.py).
CREATE OR REPLACE TEMP TABLE pq_exposure AS
WITH segs AS (
    SELECT v.patient_id, v.episode_id, v.visit_date AS seg_start,
           -- the next visit of an in-episode visit is in the same episode, or the episode
           -- ended at this visit (then the segment is empty)
           least(coalesce(v.next_visit_date, CAST($as_of AS DATE) + 1),
                 coalesce(e.end_date, CAST($as_of AS DATE) + 1)) AS seg_end,
           v.site, v.drug_if AS drug, v.pump_model_if AS pump_model, v.indication_if AS indication,
           v.clinician_if AS clinician
    FROM pq_visits v JOIN pq_episodes e USING (episode_id)
    WHERE v.in_ep AND coalesce(v.next_visit_date, CAST($as_of AS DATE) + 1) > CAST($exposure_from AS DATE)
),
months AS (
    SELECT CAST(m AS DATE) AS month_start, CAST(m + INTERVAL 1 MONTH AS DATE) AS month_end
    FROM generate_series(
        greatest((SELECT CAST(date_trunc('month', min(start_date)) AS TIMESTAMP) FROM pq_episodes),
                 CAST($exposure_from AS TIMESTAMP)),
        date_trunc('month', CAST($as_of AS DATE)),
        INTERVAL 1 MONTH) AS t(m)
)
SELECT s.patient_id, s.episode_id, m.month_start, s.site, s.drug, s.pump_model, s.indication, s.clinician,
       sum(least(s.seg_end, m.month_end) - greatest(s.seg_start, m.month_start)) AS pump_days
FROM segs s JOIN months m ON s.seg_start < m.month_end AND s.seg_end > m.month_start
WHERE s.seg_end > s.seg_start
GROUP BY ALL
