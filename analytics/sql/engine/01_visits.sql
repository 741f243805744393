-- pq_visits: the visit order (engine_visits, or computed now when the database has
-- none) as known on $as_of: later visits dropped, and a next visit after the cut-off
-- not yet known.
CREATE OR REPLACE TEMP TABLE pq_visits AS
SELECT * REPLACE (CASE WHEN next_visit_date <= $as_of THEN next_visit_date END AS next_visit_date)
FROM {visit_order}
WHERE visit_date <= $as_of
