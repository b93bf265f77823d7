#!/usr/bin/env python3
"""Rebuilds a log's tree from its C2SP tlog-tiles and checks it (t/tiles.t).

tiles_verify.py DIR SIZE ROOT_B64

DIR holds what the test fetched: t.L.N.W (hash tiles; W 256 for a full
tile), e.N.W (entry bundles, uint16 lengths) and E.N.W (entries32, uint32
lengths).  Checks: the level-0 tiles hold SIZE leaf hashes; each level-1
hash is the Merkle tree hash of its full level-0 tile; the RFC 6962 root
of the leaves is ROOT_B64; every bundle's entries hash to their leaves.
Prints what it checked, exits 1 at the first difference."""
import base64, hashlib, os, sys


def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(h):
    if len(h) == 1:
        return h[0]
    k = 1
    while k * 2 < len(h):
        k *= 2
    return node(mth(h[:k]), mth(h[k:]))


def tile(d, kind, *key):
    name = os.path.join(d, ".".join([kind] + [str(k) for k in key]))
    return open(name, "rb").read() if os.path.exists(name) else None


def fail(msg):
    print("tiles_verify: " + msg)
    sys.exit(1)


d, size, root = sys.argv[1], int(sys.argv[2]), base64.b64decode(sys.argv[3])
leaves = []
for n in range((size + 255) // 256):
    w = min(256, size - n * 256)
    t = tile(d, "t", 0, n, w)
    if t is None or len(t) != 32 * w:
        fail("level-0 tile %d (width %d) missing or of %s bytes" % (n, w, None if t is None else len(t)))
    leaves += [t[i:i + 32] for i in range(0, len(t), 32)]
top = size // 256
if top:
    w = top % 256 if top < 256 else 256
    l1 = tile(d, "t", 1, 0, w)
    if l1 is None or len(l1) != 32 * w:
        fail("level-1 tile 0 (width %d) missing or wrong length" % w)
    for k in range(w):
        if mth(leaves[k * 256:(k + 1) * 256]) != l1[32 * k:32 * k + 32]:
            fail("level-1 hash %d is not the tree hash of level-0 tile %d" % (k, k))
if mth(leaves) != root:
    fail("the root rebuilt from the tiles differs from the checkpoint's")
print("root of %d leaves rebuilt from the tiles: the checkpoint's" % size)
bundles = 0
for n in range((size + 255) // 256):
    w = min(256, size - n * 256)
    for kind, ln in (("e", 2), ("E", 4)):
        b = tile(d, kind, n, w)
        if b is None:
            continue
        i, seq = 0, n * 256
        while i < len(b):
            m = int.from_bytes(b[i:i + ln], "big")
            entry = b[i + ln:i + ln + m]
            if len(entry) != m or hashlib.sha256(b"\x00" + entry).digest() != leaves[seq]:
                fail("bundle %s.%d.%d: entry %d does not hash to its leaf" % (kind, n, w, seq))
            i, seq = i + ln + m, seq + 1
        if seq != n * 256 + w:
            fail("bundle %s.%d.%d holds %d entries, not %d" % (kind, n, w, seq - n * 256, w))
        bundles += 1
print("%d entry bundles hash to their level-0 tiles" % bundles)
