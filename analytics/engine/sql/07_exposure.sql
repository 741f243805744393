-- pq_exposure: pump-days per patient, month and the group values in force (site, drug,
-- pump model, indication, clinician). An episode covers [start, end): the start day
-- counts, the end day does not; an open episode counts up to and including $as_of.
-- Months are split exactly at their bounds.
-- Consecutive visits of an episode with the same group values form one run (the pump
-- is in place from one visit to the next, so a run is one interval); each run is split
-- into its months. A patient whose values change back and forth within a month has
-- several rows for it: consumers sum pump-days and count distinct patients.
-- Only months from $exposure_from on are computed (the first day of time, or, when the
-- stored figures are reused for an earlier cut-off, the cut-off's month: engine.py).
CREATE OR REPLACE TEMP TABLE pq_exposure AS
WITH segs AS (
    SELECT v.pid, v.seq, v.patient_id, v.episode_id, v.visit_date,
           coalesce(e.end_date, CAST($as_of AS DATE) + 1) AS episode_stop,
           v.site, v.drug_if AS drug, v.pump_model_if AS pump_model, v.indication_if AS indication,
           v.clinician_if AS clinician
    FROM pq_visits v JOIN pq_episodes e USING (episode_id)
    WHERE v.in_ep AND coalesce(v.next_visit_date, CAST($as_of AS DATE) + 1) > CAST($exposure_from AS DATE)
),
starts AS (
    -- the first visit of each run (of the visits kept above)
    SELECT * FROM (
        SELECT *,
               coalesce(struct_pack(episode_id, site, drug, pump_model, indication, clinician)
                        IS DISTINCT FROM lag(struct_pack(episode_id, site, drug, pump_model, indication,
                                                         clinician)) OVER (PARTITION BY pid ORDER BY seq),
                        TRUE) AS new_run
        FROM segs)
    WHERE new_run
),
runs AS (
    -- a run lasts until the next run of its episode starts, else until the episode's end
    -- (the end day not counted) or the day after as_of
    SELECT patient_id, episode_id, site, drug, pump_model, indication, clinician,
           visit_date AS run_start,
           coalesce(lead(visit_date) OVER (PARTITION BY episode_id ORDER BY seq), episode_stop) AS run_end
    FROM starts
),
split AS (
    SELECT *,
           CAST(unnest(generate_series(date_trunc('month', run_start), date_trunc('month', run_end - 1),
                                       INTERVAL 1 MONTH)) AS DATE) AS month_start
    FROM runs
    WHERE run_end > run_start
)
SELECT patient_id, episode_id, month_start, site, drug, pump_model, indication, clinician,
       least(run_end, CAST(month_start + INTERVAL 1 MONTH AS DATE)) - greatest(run_start, month_start)
           AS pump_days
FROM split
WHERE month_start >= CAST($exposure_from AS DATE)
