-- Recomputes every hash of the chain of peer.sql from the first row: prints the
-- number of rows and the number that do not chain (0 when the chain is intact:
-- contiguous seq from 1, each prev the hash before it, each hash recomputed, the
-- head on the last row).
WITH w AS (
	SELECT seq, body, prev, hash,
	       coalesce(lag(hash) OVER (ORDER BY seq), decode(repeat('00', 32), 'hex')) AS want_prev,
	       row_number() OVER (ORDER BY seq) AS n
	FROM notes
)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE seq <> n OR prev <> want_prev
              OR hash <> sha256(want_prev || int8send(seq) || convert_to(body, 'UTF8')))
       + (SELECT count(*) FROM chain_head h
          WHERE h.seq <> (SELECT coalesce(max(seq), 0) FROM notes)
             OR h.hash <> coalesce((SELECT hash FROM notes ORDER BY seq DESC LIMIT 1),
                                   decode(repeat('00', 32), 'hex'))) AS broken
FROM w;
