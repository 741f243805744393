-- Pump periods for device survival (METRICS "Device survival"), as known on $as_of.
-- {visit_order}: the engine's visit order (engine_visits, or a temp copy); $codes: the
-- complication codes of the endpoint. One row per pump period that can be timed:
--   * a pump starts at an implant or replacement visit of an episode, or (left-truncated
--     episode) at the episode's first visit, for the pump in place when the data begins;
--   * it exits at the next pump start of the episode, the episode's end (explant or
--     discharge) or as_of, whichever is first;
--   * its implant date is the start visit's date; for the pump in place when the data
--     begins, the first pump_implant_date recorded on its visits (none: the pump is left
--     out; a date after its first visit is a data error and left out too), and it enters
--     late: entry_days = days from that date to its first visit;
--   * its event is the first endpoint report of the patient dated from its first day (the
--     day after, when it replaced a pump: a report on a replacement day belongs to the
--     outgoing pump) to its exit; exit_days = days from the implant date to that report,
--     else to the exit (event and exit on one day count as the event).
WITH v AS (
    SELECT patient_id, episode_id, seq, visit_date, visit_type, is_close, site,
           drug_if, pump_model_if, indication_if
    FROM {visit_order}
    WHERE in_ep AND visit_date <= $as_of
      AND (visit_type IN ('implant', 'replacement') OR seq = 1 OR is_close)
),
starts AS (
    -- an episode that does not open with an implant is left-truncated (its first visit
    -- is the patient's first, seq = 1): its first pump was implanted before the data
    SELECT patient_id, episode_id, seq, visit_date AS start_date, visit_type AS start_type,
           visit_type NOT IN ('implant', 'replacement') AS late,
           site, drug_if AS drug, pump_model_if AS pump_model, indication_if AS indication
    FROM v
    WHERE visit_type IN ('implant', 'replacement') OR seq = 1
),
ends AS (
    SELECT episode_id, min(visit_date) AS end_date FROM v WHERE is_close GROUP BY episode_id
),
periods AS (
    SELECT *,
           lead(start_date) OVER w AS next_start,
           lead(seq) OVER w AS next_seq,
           row_number() OVER w AS pump_no
    FROM starts
    WINDOW w AS (PARTITION BY episode_id ORDER BY seq)
),
given AS (
    -- the implant date recorded for a pump in place when the data begins: the first
    -- pump_implant_date on its visits (before the next pump start)
    SELECT p.episode_id, arg_min(g.pump_implant_date, g.seq) AS pump_implant_date
    FROM periods p
    JOIN {visit_order} g
      ON g.episode_id = p.episode_id AND g.seq < coalesce(p.next_seq, 9223372036854775807)
    WHERE p.late AND g.pump_implant_date IS NOT NULL AND g.visit_date <= $as_of
    GROUP BY p.episode_id
),
framed AS (
    SELECT p.*,
           coalesce(p.next_start, e.end_date, CAST($as_of AS DATE)) AS exit_date,
           CASE WHEN p.late THEN gv.pump_implant_date ELSE p.start_date END AS implant_date,
           CASE WHEN p.pump_no > 1 OR p.start_type = 'replacement' THEN p.start_date + 1
                ELSE p.start_date END AS window_start
    FROM periods p
    LEFT JOIN ends e USING (episode_id)
    LEFT JOIN given gv USING (episode_id)
),
timed AS (
    SELECT * FROM framed WHERE implant_date IS NOT NULL AND implant_date <= start_date
),
endpoint_reports AS (
    SELECT patient_id, report_date
    FROM complications
    WHERE report_date <= $as_of AND list_contains($codes, complication)
),
events AS (
    SELECT t.episode_id, t.seq, min(r.report_date) AS event_date
    FROM timed t
    JOIN endpoint_reports r
      ON r.patient_id = t.patient_id
     AND r.report_date >= t.window_start AND r.report_date <= t.exit_date
    GROUP BY t.episode_id, t.seq
)
SELECT t.patient_id, t.site, t.drug, t.pump_model, t.indication,
       t.start_type, t.late, t.implant_date, t.start_date, t.exit_date, ev.event_date,
       CAST(t.start_date - t.implant_date AS INTEGER) AS entry_days,
       CAST(coalesce(ev.event_date, t.exit_date) - t.implant_date AS INTEGER) AS exit_days,
       CAST(ev.event_date IS NOT NULL AS INTEGER) AS event
FROM timed t
LEFT JOIN events ev USING (episode_id, seq)
ORDER BY t.patient_id, t.implant_date, t.seq
