-- pq_visits: the visit order (engine_visits, or computed now when the database has
-- none) as known on the cut-off (pq_cutoff.as_of): later visits dropped, and a next
-- visit after the cut-off not yet known. A view: filtering is cheaper than a copy.
CREATE OR REPLACE TEMP VIEW pq_visits AS
SELECT * REPLACE (CASE WHEN next_visit_date <= (SELECT as_of FROM pq_cutoff) THEN next_visit_date END
                  AS next_visit_date)
FROM {visit_order}
WHERE visit_date <= (SELECT as_of FROM pq_cutoff)
