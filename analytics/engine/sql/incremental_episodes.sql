-- pq_episodes of an incremental ingest (engine/incremental.py): the episodes with visits
-- from a touched patient's first changed date on, from the stored episode as it was
-- (inc_old_episodes), the stored visits replaced (inc_visits_old) and the part computed
-- by 02_episodes.sql over the new visits (inc_episodes_added). The stored episode's part
-- before that date is kept as it was: its first visit (start date and type, left
-- truncation) when it started before that date, and its counts less those of the
-- visits replaced; its end is the new part's (an episode with a part before the date
-- had not ended before it).
CREATE OR REPLACE TEMP TABLE pq_episodes AS
WITH replaced AS (
    SELECT o.episode_id, count(*) AS visits, count(*) FILTER (WHERE o.is_fill) AS fills
    FROM inc_visits_old o JOIN inc_touched t USING (pid)
    WHERE o.in_ep AND o.visit_date >= t.d
    GROUP BY o.episode_id
),
kept AS (
    SELECT e.patient_id, e.episode_id, e.start_date, e.start_type, e.left_truncated,
           e.visits - coalesce(r.visits, 0) AS visits, e.fills - coalesce(r.fills, 0) AS fills
    FROM inc_old_episodes e JOIN inc_touched t ON t.pid = e.episode_id // 1000000
    LEFT JOIN replaced r USING (episode_id)
    WHERE e.start_date < t.d
)
SELECT coalesce(k.patient_id, a.patient_id) AS patient_id, episode_id,
       coalesce(k.start_date, a.start_date) AS start_date,
       a.end_date,
       coalesce(k.start_type, a.start_type) AS start_type,
       CASE WHEN k.episode_id IS NOT NULL THEN k.left_truncated ELSE a.left_truncated END
           AS left_truncated,
       coalesce(k.visits, 0) + coalesce(a.visits, 0) AS visits,
       coalesce(k.fills, 0) + coalesce(a.fills, 0) AS fills
FROM kept k FULL JOIN inc_episodes_added a USING (episode_id)
