-- pq_reopen: the stored fills (figures of a later date, same configuration) that an
-- earlier cut-off ($as_of) can change, the only ones `_compute(..., reuse=True)` computes
-- again (engine/tables.py). A fill dated by the cut-off is final when its next fill is
-- dated by then (its dates and status depend only on visits up to that next fill), or
-- when it has no next fill and its episode ended by then (every visit of its fill group
-- is dated by the episode's end, and its status is taken at that end). reuse.sql reuses
-- exactly the complement: the fills dated by the cut-off and not listed here.
CREATE OR REPLACE TEMP TABLE pq_reopen AS
SELECT fkey, fill_date
FROM main.engine_cache_pq_refills
WHERE fill_date <= CAST($as_of AS DATE)
  AND (next_fill_date > CAST($as_of AS DATE)
       OR (next_fill_date IS NULL
           AND (episode_end IS NULL OR episode_end > CAST($as_of AS DATE))))
