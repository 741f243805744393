-- Pump periods for device survival (definitions.md "Device survival"), as known on $as_of.
-- {visit_order}: the engine's visit order (engine_visits, or a temp copy);
-- {group_value}: the column grouping the pumps (a fixed allow-list, survival.py: the value
-- in force at the pump's first visit), {group}: the group made of it; {order}: an ORDER
-- BY or nothing; $codes: the complication codes of the endpoint. One row per pump period (`timed` false for a pump
-- that cannot be timed: its days and event are then empty):
--   * a pump starts at an implant or replacement visit of an episode, or (left-truncated
--     episode) at the episode's first visit, for the pump in place when the data begins;
--   * it exits at the next pump start of the episode, the episode's end (explant or
--     discharge) or as_of, whichever is first;
--   * its implant date is the start visit's date; for the pump in place when the data
--     begins, the first pump_implant_date recorded on its visits (none: the pump is left
--     out; a date after its first visit is a data error and left out too), and it enters
--     late: entry_days = days from that date to its first visit;
--   * its event is the first endpoint report of the patient dated from its implant date
--     (the day after, when it replaced a pump: a report on a replacement day belongs to
--     the outgoing pump) to its exit; exit_days = days from the implant date to that
--     report, else to the exit (event and exit on one day count as the event). A pump
--     that entered late with an event before its entry has exit_days < entry_days: it
--     was not event-free when it entered, and stays out of the curve.
WITH v AS (
    -- the only visits that matter: pump starts, episode ends, recorded implant dates
    SELECT patient_id, episode_id, seq, visit_date, visit_type, is_close,
           {group_value} AS group_value, pump_implant_date
    FROM {visit_order}
    WHERE in_ep AND visit_date <= $as_of
      AND (visit_type IN ('implant', 'replacement') OR seq = 1 OR is_close
           OR pump_implant_date IS NOT NULL)
),
starts AS (
    -- an episode that does not open with an implant is left-truncated (its first visit
    -- is the patient's first, seq = 1): its first pump was implanted before the data
    SELECT patient_id, episode_id, seq, visit_date AS start_date, visit_type AS start_type,
           visit_type NOT IN ('implant', 'replacement') AS late, group_value
    FROM v
    WHERE visit_type IN ('implant', 'replacement') OR seq = 1
),
ends AS (
    SELECT episode_id, min(visit_date) AS end_date FROM v WHERE is_close GROUP BY episode_id
),
periods AS (
    -- one ordering of all starts (cheaper than a partition per episode): the next start
    -- is the next row when it is of the same episode
    SELECT *,
           CASE WHEN lead(episode_id) OVER w = episode_id THEN lead(start_date) OVER w END
               AS next_start,
           CASE WHEN lead(episode_id) OVER w = episode_id THEN lead(seq) OVER w END AS next_seq,
           lag(episode_id) OVER w IS NOT DISTINCT FROM episode_id AS replaces_a_pump
    FROM starts
    WINDOW w AS (ORDER BY episode_id, seq)
),
given AS (
    -- the implant date recorded for a pump in place when the data begins: the first
    -- pump_implant_date on its visits (before the next pump start)
    SELECT p.episode_id, arg_min(g.pump_implant_date, g.seq) AS pump_implant_date
    FROM periods p
    JOIN v g
      ON g.episode_id = p.episode_id AND g.seq < coalesce(p.next_seq, 9223372036854775807)
    WHERE p.late AND g.pump_implant_date IS NOT NULL
    GROUP BY p.episode_id
),
framed AS (
    SELECT p.*,
           coalesce(p.next_start, e.end_date, CAST($as_of AS DATE)) AS exit_date,
           CASE WHEN p.late THEN gv.pump_implant_date ELSE p.start_date END AS implant_date,
           CASE WHEN p.replaces_a_pump OR p.start_type = 'replacement' THEN p.start_date + 1
                WHEN p.late THEN gv.pump_implant_date
                ELSE p.start_date END AS window_start
    FROM periods p
    LEFT JOIN ends e USING (episode_id)
    LEFT JOIN given gv USING (episode_id)
),
timed AS (
    SELECT * REPLACE (CASE WHEN implant_date <= start_date THEN implant_date END AS implant_date),
           coalesce(implant_date <= start_date, FALSE) AS timed
    FROM framed
),
endpoint_reports AS (
    SELECT patient_id, report_date
    FROM complications
    WHERE report_date <= $as_of AND list_contains($codes, complication)
),
first_event AS (
    -- the patient's first endpoint report from the window's start to the exit
    SELECT t.episode_id, t.seq, min(r.report_date) AS event_date
    FROM timed t
    JOIN endpoint_reports r
      ON r.patient_id = t.patient_id
     AND r.report_date >= t.window_start AND r.report_date <= t.exit_date
    GROUP BY t.episode_id, t.seq
),
with_first AS (
    SELECT t.*, f.event_date FROM timed t LEFT JOIN first_event f USING (episode_id, seq)
)
SELECT {group} AS "group", patient_id, implant_date,
       CAST(start_date - implant_date AS INTEGER) AS entry_days,
       CAST(coalesce(event_date, exit_date) - implant_date AS INTEGER) AS exit_days,
       CASE WHEN timed THEN CAST(event_date IS NOT NULL AS INTEGER) END AS event,
       start_date, exit_date, CASE WHEN timed THEN event_date END AS event_date,
       start_type, late, timed
FROM with_first
{order}
