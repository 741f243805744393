-- What an ingest's new rows (ingest_id = $ingest) change in the stored engine tables, as
-- temp tables, before anything is changed (engine/incremental.py). $moved: the data's end
-- moved from $old_as_of. Statements run in order, one at a time.

-- patients with new visits and the first date they change (pid: engine_patients)
CREATE OR REPLACE TEMP TABLE inc_touched AS
SELECT p.pid, n.patient_id, n.d
FROM (SELECT patient_id, min(visit_date) AS d FROM main.visits WHERE ingest_id = $ingest
      GROUP BY patient_id) n
JOIN main.engine_patients p USING (patient_id);

-- each such patient's last visit kept (before that date: its state is carried on), the
-- last dose recorded in an episode before it (a step-up is measured from it) and the
-- last pump implant date recorded in an episode before it (the latest of a pump period:
-- 09_pumps.sql)
CREATE OR REPLACE TEMP TABLE inc_seed_keys AS
SELECT e.pid, max(e.vkey) AS vkey,
       max(e.vkey) FILTER (WHERE e.in_ep AND e.daily_dose_mg IS NOT NULL) AS last_dose_vkey,
       max(e.vkey) FILTER (WHERE e.in_ep AND e.pump_implant_date IS NOT NULL) AS last_implant_vkey
FROM main.engine_visits e JOIN inc_touched t USING (pid)
WHERE e.visit_date < t.d
GROUP BY e.pid;

-- the stored episodes with visits from the first changed date on (end none or later)
CREATE OR REPLACE TEMP TABLE inc_old_episodes AS
SELECT e.*
FROM main.engine_cache_pq_episodes e JOIN inc_touched t ON e.episode_id // 1000000 = t.pid
WHERE e.end_date IS NULL OR e.end_date >= t.d;

-- fills computed again: of a touched patient, from the last fill before the first
-- changed date (its next fill, recorded due date or daily volumes may change); when the
-- data's end moves, the fills waiting for a refill (their status depends on it)
CREATE OR REPLACE TEMP TABLE inc_fill_from AS
SELECT pid, min(f) AS f FROM (
    SELECT t.pid, least(t.d, coalesce(max(r.fill_date), t.d)) AS f
    FROM inc_touched t
    LEFT JOIN main.engine_cache_pq_refills r ON r.fkey // 1000000 = t.pid AND r.fill_date < t.d
    GROUP BY t.pid, t.d
    UNION ALL
    SELECT episode_id // 1000000, fill_date FROM main.engine_cache_pq_open_fills WHERE $moved
) GROUP BY pid;

-- pump-days computed again: from the month of the first changed date, and for an
-- episode open at the old data's end (its days go on to the new one), from the month of
-- the day after it (a month that ended with the old data's end was counted whole)
CREATE OR REPLACE TEMP TABLE inc_exposure_from AS
SELECT pid, min(m) AS m FROM (
    SELECT pid, CAST(date_trunc('month', d) AS DATE) AS m FROM inc_touched
    UNION ALL
    SELECT episode_id // 1000000, CAST(date_trunc('month', CAST($old_as_of AS DATE) + 1) AS DATE)
    FROM main.engine_cache_pq_episodes WHERE $moved AND end_date IS NULL
) GROUP BY pid;

-- reports computed again: from the first changed date of visits or reports, and a
-- report naming a visit that has just arrived (it was an unknown visit); only of the
-- patients with a report on or after that date (a report is read with the visits and
-- reports up to its own date: those before it do not change)
CREATE OR REPLACE TEMP TABLE inc_report_from AS
SELECT x.patient_id, p.pid, min(x.r) AS r FROM (
    SELECT patient_id, d AS r FROM inc_touched
    UNION ALL
    SELECT patient_id, report_date FROM main.complications WHERE ingest_id = $ingest
    UNION ALL
    SELECT patient_id, report_date FROM main.complications
    WHERE visit_id IN (SELECT visit_id FROM main.visits WHERE ingest_id = $ingest)
) x LEFT JOIN main.engine_patients p USING (patient_id)
GROUP BY x.patient_id, p.pid
HAVING EXISTS (SELECT 1 FROM main.complications c
               WHERE c.patient_id = x.patient_id AND c.report_date >= min(x.r));

-- procedures computed again (all of the patient's): those whose reports are, those
-- with new visits and a surgery on or after the first changed date (the surgery, or
-- whether it is in an episode, may change; rows are never changed, so its type is
-- known), and those with an outcome window still open at the old data's end
CREATE OR REPLACE TEMP TABLE inc_procedure_patients AS
SELECT patient_id, pid FROM inc_report_from
UNION
SELECT t.patient_id, t.pid
FROM inc_touched t
WHERE EXISTS (SELECT 1 FROM main.visits v
              WHERE v.patient_id = t.patient_id AND v.visit_date >= t.d
                AND v.visit_type IN ('implant', 'replacement', 'revision'))
UNION
SELECT r.patient_id, p.pid
FROM (SELECT DISTINCT patient_id FROM main.engine_cache_pq_procedures
      WHERE $moved AND (superficial_30d_open OR deep_90d_open)) r
JOIN main.engine_patients p USING (patient_id);

-- pump periods computed again: of a touched patient, from the last one started before
-- the first changed date (later visits may end it, or change its last values)
CREATE OR REPLACE TEMP TABLE inc_pump_from AS
SELECT t.pid, least(t.d, coalesce(max(p.start_date), t.d)) AS p
FROM inc_touched t
LEFT JOIN main.engine_cache_pq_pumps p ON p.episode_id // 1000000 = t.pid AND p.start_date < t.d
GROUP BY t.pid, t.d;
