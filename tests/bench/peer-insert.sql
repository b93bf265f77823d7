-- pgbench's transaction for tests/bench/peer.sh: one 256-byte note, chained by
-- the trigger of peer.sql, committed with synchronous_commit = on.
\set r random(1, 1000000000)
INSERT INTO notes (body) VALUES (rpad('note ' || :r || ' ', 256, 'x'));
