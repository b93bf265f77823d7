#!/usr/bin/python3
"""Checks the signature lines of a signed checkpoint note (t/witnessing.t,
t/follow-witness.t), independently of scoped's own code.

cosig_verify.py NOTE LOG-VKEY [WITNESS-VKEY...]

LOG-VKEY (name+hexid+base64(0x01 || key)) must have a valid Ed25519
signed-note line; each WITNESS-VKEY (type 0x04) a valid cosignature/v1
line over "cosignature/v1\\ntime T\\n" and the note's text (C2SP
tlog-cosignature).  Prints one line per key checked, exits 1 at the first
that is missing or does not verify."""
import base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

note = open(sys.argv[1], "rb").read().decode()
text, _, sigs = note.rpartition("\n\n")
text += "\n"
lines = [l for l in sigs.split("\n") if l]


def key(vkey, typ):
    name, kid, b = vkey.split("+", 2)
    raw = base64.b64decode(b)
    if raw[0] != typ:
        sys.exit("cosig_verify: %s is not a key of type %d" % (name, typ))
    return name, bytes.fromhex(kid), Ed25519PublicKey.from_public_bytes(raw[1:])


def check(vkey, typ):
    name, kid, pub = key(vkey, typ)
    for l in lines:
        if not l.startswith("\u2014 " + name + " "):
            continue
        blob = base64.b64decode(l.split(" ")[2])
        if blob[:4] != kid:
            continue
        if typ == 1 and len(blob) == 68:
            pub.verify(blob[4:], text.encode())
            print("ok: %s signed the checkpoint" % name)
            return
        if typ == 4 and len(blob) == 76:
            t = int.from_bytes(blob[4:12], "big")
            pub.verify(blob[12:], ("cosignature/v1\ntime %d\n" % t).encode() + text.encode())
            print("ok: %s cosigned the checkpoint at %d" % (name, t))
            return
    print("cosig_verify: no signature line of %s" % name)
    sys.exit(1)


try:
    check(sys.argv[2], 1)
    for w in sys.argv[3:]:
        check(w, 4)
except Exception as e:  # InvalidSignature has no message
    print("cosig_verify: a signature does not verify (%s)" % type(e).__name__)
    sys.exit(1)
