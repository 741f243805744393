-- pq_episodes: one row per therapy episode (implant -> explant/discharge, or open).
CREATE OR REPLACE TEMP TABLE pq_episodes AS
SELECT patient_id,
       episode_id,
       min(visit_date) AS start_date,
       max(CASE WHEN is_close THEN visit_date END) AS end_date,
       arg_min(visit_type, seq) AS start_type,
       bool_or(seq = 1 AND visit_type NOT IN ('trial', 'implant')) AS left_truncated,
       count(*) AS visits,
       count(*) FILTER (WHERE is_fill) AS fills
FROM pq_visits
WHERE in_ep
GROUP BY patient_id, episode_id
