"""0011: the API rate limits' rolling window, shared in PostgreSQL by every node of a cluster.

One row per (API key, read|write) with the times of the hits admitted in the window (at most `limit` of them).
The table is UNLOGGED: the hits of the last minute need no durability, so they cost no WAL (a PostgreSQL crash
or a fail-over to a replica empties it, which only forgets a minute of counts). A row lock, not an advisory
lock, serialises the hits of one key: nothing shares a lock namespace with the cluster's other locks.

`ringback_rate_limit_hit` does the whole check in one statement, on database time (`clock_timestamp()`, read
after the row lock is held, so the hits of a key are appended in order whatever the nodes' clocks say).
With `p_purge` it first deletes the rows of keys whose newest hit has left the window (skipping rows in use),
which keeps the table at about the keys seen in the last window or two. SQLite is always one node: its limits
stay in memory and this migration does nothing there.
"""

from ringback.storage.db import is_sqlite

TABLE = """
CREATE UNLOGGED TABLE IF NOT EXISTS rate_limit_window (
    key text PRIMARY KEY,
    hits timestamptz[] NOT NULL
)
"""

FUNCTION = """
CREATE OR REPLACE FUNCTION ringback_rate_limit_hit(
    p_key text, p_limit integer, p_window_seconds double precision, p_purge boolean,
    OUT allowed boolean, OUT counted integer, OUT oldest_age_seconds double precision
) LANGUAGE plpgsql AS $$
DECLARE
    window_length constant interval := make_interval(secs => p_window_seconds);
    kept timestamptz[];
    at timestamptz;
BEGIN
    IF p_purge THEN
        DELETE FROM rate_limit_window WHERE key IN (
            SELECT w.key FROM rate_limit_window w
            WHERE w.hits[array_upper(w.hits, 1)] <= clock_timestamp() - window_length
            FOR UPDATE SKIP LOCKED
        );
    END IF;
    LOOP
        SELECT w.hits INTO kept FROM rate_limit_window w WHERE w.key = p_key FOR UPDATE;
        EXIT WHEN FOUND;
        -- The key's first hit (or its row was just purged). Losing the insert race: lock the winner's row.
        INSERT INTO rate_limit_window (key, hits) VALUES (p_key, ARRAY[clock_timestamp()])
        ON CONFLICT (key) DO NOTHING;
        IF FOUND THEN
            allowed := true;
            counted := 1;
            oldest_age_seconds := 0;
            RETURN;
        END IF;
    END LOOP;
    at := clock_timestamp();
    kept := ARRAY(SELECT h FROM unnest(kept) AS h WHERE h > at - window_length ORDER BY h);
    allowed := cardinality(kept) < p_limit;
    IF allowed THEN
        kept := kept || at;
        UPDATE rate_limit_window SET hits = kept WHERE key = p_key;
    END IF;  -- a refused hit writes nothing: it is not counted
    counted := cardinality(kept);
    oldest_age_seconds := extract(epoch FROM at - kept[1]);
END
$$
"""


def up(db) -> None:
    if is_sqlite(db):
        return
    db.execute_sql(TABLE)
    db.execute_sql(FUNCTION)
