-- The PostgreSQL peer of tests/bench/peer.sh: an append-only table of notes
-- whose rows form a hash chain, as Scope Ledger's entries do.  Each row's hash
-- is SHA-256(previous row's hash || seq as 8 bytes big-endian || body), the
-- first row's previous hash 32 zero bytes.  The trigger locks the chain head
-- (one row) for the rest of the transaction, so concurrent inserts take their
-- turns and each one chains onto the row committed before it.
CREATE TABLE chain_head (
	id   int    PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash bytea  NOT NULL
);
INSERT INTO chain_head VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE notes (
	seq     bigint      PRIMARY KEY,
	body    text        NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	prev    bytea       NOT NULL,
	hash    bytea       NOT NULL
);

CREATE FUNCTION notes_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	head chain_head;
BEGIN
	SELECT * INTO head FROM chain_head WHERE id = 1 FOR UPDATE;
	NEW.seq  := head.seq + 1;
	NEW.prev := head.hash;
	NEW.hash := sha256(head.hash || int8send(NEW.seq) || convert_to(NEW.body, 'UTF8'));
	UPDATE chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
	RETURN NEW;
END $$;

CREATE TRIGGER notes_chain BEFORE INSERT ON notes
	FOR EACH ROW EXECUTE FUNCTION notes_chain();

-- neither rewritten nor removed: the chain only grows
CREATE FUNCTION notes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'notes are append-only';
END $$;
CREATE TRIGGER notes_append_only BEFORE UPDATE OR DELETE ON notes
	FOR EACH ROW EXECUTE FUNCTION notes_append_only();
