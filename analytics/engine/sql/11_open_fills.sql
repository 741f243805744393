-- pq_open_fills: the fills still waiting for a refill on the cut-off: no next fill and
-- the episode open (the last fill of each open episode), whatever their status. The
-- worklist and the workload forecast read only these (a few % of all fills).
-- Built on demand (engine/on_demand.py) and stored by ingest for the data's end.
CREATE OR REPLACE TEMP TABLE pq_open_fills AS
SELECT patient_id, episode_id, fill_visit_id, fill_date, site, drug, pump_model, indication,
       clinician, due_date, due_source, empty_date, status
FROM pq_refills
WHERE next_fill_date IS NULL AND episode_end IS NULL
