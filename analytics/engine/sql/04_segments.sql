-- pq_fill_segments: for each fill, the daily volume in force from each date with a
-- visit between the fill and the next fill (changes dated on or after the next fill
-- never count): the rate in force after the last visit of that day.
-- {fill_visits}: as in 03_fills.sql (a fill group's visits are all in it).
CREATE OR REPLACE TEMP TABLE pq_fill_segments AS
SELECT f.fkey, v.visit_date AS d, v.rate_if AS r
FROM pq_fill_base f
JOIN {fill_visits} v ON v.episode_id = f.episode_id AND v.fill_grp = f.fill_grp
WHERE v.last_of_day AND (f.next_fill_date IS NULL OR v.visit_date < f.next_fill_date);
