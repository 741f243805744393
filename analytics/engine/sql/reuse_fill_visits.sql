-- pq_fill_visits: the visits the fill stages (03_fills, 04_segments) read when only the
-- fills of pq_reopen are computed again: the visits of their fill groups (a fill group
-- starts at its fill, so none is dated before it), as known on the cut-off (01_visits).
-- A few % of pq_visits, so the stages do not scan every visit's columns. Every fill
-- kept is in it, with every drug, pump model and concentration the caps and alarm
-- volumes of those fills depend on.
-- Found in two passes: the row ids of those visits (a scan of a few columns), then their
-- rows (reading every column of every visit to keep a few % of them cost 4 times more).
CREATE OR REPLACE TEMP TABLE pq_fill_visits AS
WITH groups AS (
    SELECT v.episode_id, v.fill_grp
    FROM {visit_order} v SEMI JOIN pq_reopen r ON r.fkey = v.vkey
),
kept AS (
    SELECT v.rowid AS kept_rowid
    FROM {visit_order} v SEMI JOIN groups g ON g.episode_id = v.episode_id AND g.fill_grp = v.fill_grp
    WHERE v.visit_date <= CAST($as_of AS DATE)
)
SELECT v.* REPLACE (CASE WHEN v.next_visit_date <= CAST($as_of AS DATE) THEN v.next_visit_date END
                    AS next_visit_date)
FROM {visit_order} v
WHERE v.rowid IN (SELECT kept_rowid FROM kept)
