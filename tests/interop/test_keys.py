#!/usr/bin/python3
"""brine keygen, sign, verify, encrypt, decrypt, and the --key and
--require-signature options of predict and inspect, end to end
(docs/integrity.md; exit codes per CONVENTIONS: 0 ok, 1 a failed check or
refused signature, 2 an error, 64 bad usage).

A RandomForestClassifier and a DecisionTreeRegressor fitted by Debian's
sklearn are saved with joblib (plain and zlib-compressed); each is signed,
verified, tampered with, encrypted and opened encrypted, and every answer
brine gives on the encrypted file is compared with its answer on the plain
one, which test_trees.py holds to sklearn's.

Usage: /usr/bin/python3 tests/interop/test_keys.py --brine build/brine
Last line: `interop-keys: P passed, F failed`.
"""

import hashlib
import json
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-keys"
common.require_packages(PREFIX)

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as e:
    common.fail_hard(PREFIX, "python3-cryptography is needed to check signatures independently: %s" % e)

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402


class Checker:
    def __init__(self, brine, summary, timeout):
        self.brine, self.summary, self.timeout = brine, summary, timeout

    def run(self, args, env=None, cwd=None):
        if env is None:
            return common.run_brine(self.brine, args, self.timeout, cwd=cwd)
        old = dict(os.environ)
        os.environ.update(env)
        try:
            return common.run_brine(self.brine, args, self.timeout, cwd=cwd)
        finally:
            os.environ.clear()
            os.environ.update(old)

    def expect(self, name, args, rc, stderr_has=None, stdout_has=None, env=None):
        """Runs brine; checks the exit code, one-line errors and texts."""
        res = self.run(args, env)
        problems = []
        if res.crash_reason():
            problems.append(res.crash_reason())
        if res.rc != rc:
            problems.append("exit %d, expected %d" % (res.rc, rc))
        if rc not in (0, 64) and common.one_line_error(res):
            problems.append(common.one_line_error(res))
        for want in ([stderr_has] if isinstance(stderr_has, str) else stderr_has or []):
            if want not in res.stderr_text:
                problems.append("stderr lacks %r" % want)
        for want in ([stdout_has] if isinstance(stdout_has, str) else stdout_has or []):
            if want not in res.stdout_text:
                problems.append("stdout lacks %r" % want)
        self.check(name, not problems, "; ".join(problems) + "\n" + res.describe())
        return res

    def check(self, name, ok, detail=""):
        if ok:
            self.summary.ok()
        else:
            self.summary.fail(name, detail)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def without_disk_facts(doc, path):
    """The JSON of inspect without the values that describe the file on
    disk rather than the model in it: its name, size and SHA-256."""
    facts = {path, os.path.getsize(path), hashlib.sha256(read(path)).hexdigest()}

    def walk(v):
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()
                    if not (isinstance(x, (str, int)) and not isinstance(x, bool) and x in facts)}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return walk(doc)


def fit_models(tmp, rng):
    X = rng.rand(300, 5)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    models = {}
    rf = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, y)
    dt = DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, X[:, 2] * 3)
    for name, est, compress in (("rf.joblib", rf, 0), ("dt.joblib.z", dt, 3)):
        path = os.path.join(tmp, name)
        joblib.dump(est, path, compress=compress)
        models[name] = path
    csv = os.path.join(tmp, "x.csv")
    np.savetxt(csv, X[:25], delimiter=",", fmt="%r")
    return models, csv


def test_keygen(c, tmp):
    ident = os.path.join(tmp, "id")
    c.expect("keygen pair", ["keygen", "-o", ident], 0, stdout_has="id.key")
    mode = stat.S_IMODE(os.stat(ident + ".key").st_mode)
    c.check("keygen secret key mode 0600", mode == 0o600, "mode %o" % mode)
    c.check("keygen public key readable", os.path.isfile(ident + ".pub"))
    c.check("keygen secret key format", read(ident + ".key").startswith(b"brine ed25519-secret-key v1\n"))
    c.check("keygen public key format", read(ident + ".pub").startswith(b"brine ed25519-public-key v1\n"))
    before = read(ident + ".key")
    c.expect("keygen refuses to overwrite", ["keygen", "-o", ident], 2, "--force")
    c.check("keygen overwrite left the key", read(ident + ".key") == before)
    sym = os.path.join(tmp, "k")
    c.expect("keygen symmetric", ["keygen", "--symmetric", "-o", sym], 0)
    mode = stat.S_IMODE(os.stat(sym).st_mode)
    c.check("keygen symmetric mode 0600", mode == 0o600, "mode %o" % mode)
    c.check("keygen symmetric format", read(sym).startswith(b"brine symmetric-key v1\n"))
    other = os.path.join(tmp, "k2")
    c.expect("keygen second symmetric", ["keygen", "-o", other, "--symmetric"], 0)
    c.check("two keys differ", read(sym) != read(other))
    c.expect("keygen without -o", ["keygen"], 64)
    c.expect("keygen unknown flag", ["keygen", "-o", ident, "--bogus"], 64)
    return ident, sym, other


def test_signatures(c, tmp, models, csv, ident):
    path = models["rf.joblib"]
    pub, key = ident + ".pub", ident + ".key"
    c.expect("sign", ["sign", path, "--key", key], 0)
    sig = read(path + ".sig")
    c.check("sig format", len(sig) == 108 and sig.startswith(b"BRINESIG\x01\0\0\0"), repr(sig[:12]))
    c.expect("verify signature", ["verify", path, "--pubkey", pub], 0, stdout_has="signature ok")
    # The format is what docs/integrity.md says: another Ed25519 checks it.
    pub_bytes = bytes.fromhex(read(pub).decode().split("\n")[1])
    try:
        Ed25519PublicKey.from_public_bytes(pub_bytes).verify(sig[44:], sig[:12] + hashlib.sha256(read(path)).digest())
        independent = sig[12:44] == pub_bytes
    except Exception as e:  # cryptography's InvalidSignature
        independent = False
        print("independent check: %r" % e)
    c.check("signature verifies in Python's cryptography", independent)
    c.expect("verify options after operand", ["verify", "--pubkey", pub, path], 0)
    plain = c.run(["predict", path, csv])
    c.expect("predict --require-signature", ["predict", path, csv, "--require-signature", pub], 0)
    signed = c.run(["predict", "--require-signature", pub, path, csv])
    c.check("signed predict equals plain", signed.stdout == plain.stdout and plain.rc == 0, signed.describe())
    # A signature by another key
    ident2 = os.path.join(tmp, "other")
    c.expect("keygen other", ["keygen", "-o", ident2], 0)
    c.expect("verify with another key", ["verify", path, "--pubkey", ident2 + ".pub"], 1, "signed by key")
    c.expect("predict with another key", ["predict", path, csv, "--require-signature", ident2 + ".pub"], 1)
    # Tampered: one byte in the middle
    data = bytearray(read(path))
    tampered = os.path.join(tmp, "tampered.joblib")
    data[len(data) // 2] ^= 1
    write(tampered, bytes(data))
    write(tampered + ".sig", sig)
    c.expect("verify tampered", ["verify", tampered, "--pubkey", pub], 1, "changed after signing")
    c.expect("predict tampered", ["predict", tampered, csv, "--require-signature", pub], 1, "refused")
    # A byte appended
    write(tampered, read(path) + b"\0")
    c.expect("verify appended byte", ["verify", tampered, "--pubkey", pub], 1)
    # Tampered signature
    bad = bytearray(sig)
    bad[-1] ^= 0x80
    write(tampered, read(path))
    write(tampered + ".sig", bytes(bad))
    c.expect("verify flipped signature", ["verify", tampered, "--pubkey", pub], 1)
    write(tampered + ".sig", b"not a signature")
    c.expect("verify garbage signature", ["verify", tampered, "--pubkey", pub], 1, "not a brine signature")
    # Unsigned: refused (1); missing key file: error (2)
    os.unlink(tampered + ".sig")
    c.expect("verify unsigned", ["verify", tampered, "--pubkey", pub], 1, "not signed")
    c.expect("predict unsigned", ["predict", tampered, csv, "--require-signature", pub], 1, "not signed")
    c.expect("predict missing public key", ["predict", path, csv, "--require-signature",
                                            os.path.join(tmp, "nope.pub")], 2, "nope.pub")
    c.expect("verify missing public key", ["verify", path, "--pubkey", os.path.join(tmp, "nope.pub")], 2)
    c.expect("sign missing secret key", ["sign", path, "--key", os.path.join(tmp, "nope.key")], 2)
    c.expect("sign with a public key", ["sign", path, "--key", pub], 2, "secret key")
    c.expect("verify with a secret key", ["verify", path, "--pubkey", key], 2, "public key")
    c.expect("sign without --key", ["sign", path], 64)
    # --signature names another place; -o on sign writes there
    elsewhere = os.path.join(tmp, "detached.sig")
    c.expect("sign -o", ["sign", path, "--key", key, "-o", elsewhere], 0)
    c.expect("verify --signature", ["verify", path, "--pubkey", pub, "--signature", elsewhere], 0)


def test_checksums(c, tmp, models):
    path = models["dt.joblib.z"]
    meta = path + ".meta.json"
    c.expect("verify without sidecar", ["verify", path], 2, "meta.json")
    digest = hashlib.sha256(read(path)).hexdigest()
    write(meta, json.dumps({"sha256": digest, "format": "joblib"}).encode())
    c.expect("verify checksum", ["verify", path], 0, stdout_has=digest)
    # Any changed byte is detected: flip each of several positions.
    original = read(path)
    copy = os.path.join(tmp, "copy.joblib.z")
    write(copy + ".meta.json", read(meta))
    for pos in (0, 1, len(original) // 3, len(original) - 1):
        data = bytearray(original)
        data[pos] ^= 0x01
        write(copy, bytes(data))
        c.expect("verify byte %d changed" % pos, ["verify", copy], 1, "checksum mismatch")
    write(copy, original[:-1])
    c.expect("verify truncated", ["verify", copy], 1, "checksum mismatch")
    write(copy, original)
    c.expect("verify copy", ["verify", copy], 0)
    write(copy + ".meta.json", b"{}")
    c.expect("verify sidecar without sha256", ["verify", copy], 2, "sha256")
    write(copy + ".meta.json", b"{not json")
    c.expect("verify sidecar not JSON", ["verify", copy], 2, "JSON")
    write(copy + ".meta.json", json.dumps({"sha256": digest.upper()}).encode())
    c.expect("verify sidecar bad hex", ["verify", copy], 2, "lowercase")
    # The sidecar brine convert writes itself.
    conv = os.path.join(tmp, "converted.joblib")
    c.expect("convert writes a sidecar", ["convert", models["rf.joblib"], conv], 0)
    c.expect("verify convert's sidecar", ["verify", conv], 0, stdout_has="checksum ok")
    data = bytearray(read(conv))
    data[-1] ^= 0xff
    write(conv, bytes(data))
    c.expect("verify converted file changed", ["verify", conv], 1, "checksum mismatch")
    # Both checks at once: the signature is refused though the checksum holds.
    ident = os.path.join(tmp, "id")
    c.expect("sign dt", ["sign", path, "--key", ident + ".key"], 0)
    c.expect("verify both", ["verify", path, "--pubkey", ident + ".pub", "--checksum"], 0,
             stdout_has=["checksum ok", "signature ok"])
    write(copy + ".meta.json", read(meta))
    c.expect("verify both, unsigned", ["verify", copy, "--pubkey", ident + ".pub", "--checksum"], 1, "not signed")
    c.expect("verify missing file", ["verify", os.path.join(tmp, "absent.joblib"), "--pubkey", ident + ".pub"], 2)


def test_encryption(c, tmp, models, csv, sym, other):
    for name, path in sorted(models.items()):
        enc = path + ".enc"
        c.expect("encrypt %s" % name, ["encrypt", path, "--key", sym], 0)
        data = read(enc)
        c.check("encrypt %s magic" % name, data.startswith(b"BRINEENC\x01"), repr(data[:9]))
        c.check("encrypt %s hides content" % name, read(path)[:64] not in data)
        back = os.path.join(tmp, "back-" + name)
        c.expect("decrypt %s" % name, ["decrypt", enc, "--key", sym, "-o", back], 0)
        c.check("decrypt %s equal bytes" % name, read(back) == read(path))
        default_out = os.path.join(tmp, "dflt", name)
        os.makedirs(os.path.dirname(default_out), exist_ok=True)
        write(default_out + ".enc", data)
        c.expect("decrypt %s default name" % name, ["decrypt", default_out + ".enc"], 0, env={"BRINE_KEY_FILE": sym})
        c.check("decrypt %s default name equal" % name, os.path.isfile(default_out) and read(default_out) == read(path))

        for method in ("predict", "predict_proba", "apply"):
            if method == "predict_proba" and "dt" in name:
                continue
            plain = c.run(["predict", path, csv, "--method", method])
            with_key = c.run(["predict", enc, csv, "--method", method, "--key", sym])
            with_env = c.run(["predict", enc, csv, "--method", method], env={"BRINE_KEY_FILE": sym})
            c.check("predict %s %s --key" % (name, method),
                    plain.rc == 0 and with_key.rc == 0 and with_key.stdout == plain.stdout and plain.stdout,
                    with_key.describe())
            c.check("predict %s %s BRINE_KEY_FILE" % (name, method),
                    with_env.rc == 0 and with_env.stdout == plain.stdout, with_env.describe())
        # The model sees the same facts; inspect differs only in the file name.
        for flags in ([], ["--json"]):
            plain = c.run(["inspect", path] + flags)
            enc_out = c.run(["inspect", enc, "--key", sym] + flags, env={})
            env_out = c.run(["inspect", enc] + flags, env={"BRINE_KEY_FILE": sym})
            if flags:
                a, b, e = (json.loads(r.stdout_text) if r.rc == 0 else {} for r in (plain, enc_out, env_out))
                a = without_disk_facts(a, path)
                b, e = without_disk_facts(b, enc), without_disk_facts(e, enc)
                same = a and a == b and a == e
            else:
                strip = lambda t: [l for l in t.split("\n") if not l.startswith("file:")]  # noqa: E731
                same = plain.rc == 0 and strip(plain.stdout_text) == strip(enc_out.stdout_text) == \
                    strip(env_out.stdout_text)
            c.check("inspect %s %s encrypted equals plain" % (name, " ".join(flags)), same,
                    enc_out.describe() + env_out.describe())
        # No key, wrong key, wrong kind of key, missing key file: exit 2.
        c.expect("predict %s encrypted without key" % name, ["predict", enc, csv], 2, ["encrypted", "--key"],
                 env={"BRINE_KEY_FILE": ""})
        c.expect("inspect %s encrypted without key" % name, ["inspect", enc], 2, "encrypted")
        c.expect("predict %s wrong key" % name, ["predict", enc, csv, "--key", other], 2, "not with the key given")
        c.expect("inspect %s wrong key (env)" % name, ["inspect", enc], 2, "not with the key given",
                 env={"BRINE_KEY_FILE": other})
        c.expect("predict %s --key wins over env" % name, ["predict", enc, csv, "--key", sym], 0,
                 env={"BRINE_KEY_FILE": other})
        c.expect("decrypt %s wrong key" % name, ["decrypt", enc, "--key", other, "-o", back + ".x"], 2)
        c.check("decrypt %s wrong key wrote nothing" % name, not os.path.exists(back + ".x"))
        c.expect("predict %s public key as key" % name, ["predict", enc, csv, "--key",
                                                         os.path.join(tmp, "id.pub")], 2, "symmetric key")
        c.expect("predict %s missing key file" % name, ["predict", enc, csv, "--key",
                                                        os.path.join(tmp, "nokey")], 2, "nokey")
        # A changed byte in the header, the middle and the last byte; truncation.
        for label, pos in (("header", 30), ("middle", len(data) // 2), ("last", len(data) - 1)):
            bad = bytearray(data)
            bad[pos] ^= 0x04
            write(enc + ".bad", bytes(bad))
            c.expect("predict %s %s byte changed" % (name, label), ["predict", enc + ".bad", csv, "--key", sym], 2)
            c.expect("decrypt %s %s byte changed" % (name, label),
                     ["decrypt", enc + ".bad", "--key", sym, "-o", back + ".bad"], 2)
            c.check("decrypt %s %s wrote nothing" % (name, label), not os.path.exists(back + ".bad"))
        write(enc + ".bad", data[:-5])
        c.expect("predict %s truncated" % name, ["predict", enc + ".bad", csv, "--key", sym], 2, "truncated")
        # Signed encrypted file: the signature covers the bytes on disk.
        ident = os.path.join(tmp, "id")
        c.expect("sign %s.enc" % name, ["sign", enc, "--key", ident + ".key"], 0)
        c.expect("predict %s.enc signed" % name,
                 ["predict", enc, csv, "--key", sym, "--require-signature", ident + ".pub"], 0)
    c.expect("encrypt without key", ["encrypt", models["rf.joblib"]], 64, env={"BRINE_KEY_FILE": ""})
    c.expect("decrypt needs -o without .enc", ["decrypt", models["rf.joblib"], "--key", sym], 64)
    c.expect("decrypt a plain file", ["decrypt", models["rf.joblib"], "--key", sym, "-o",
                                      os.path.join(tmp, "never")], 2, "not a brine encrypted file")
    empty = os.path.join(tmp, "empty")
    write(empty, b"")
    c.expect("encrypt empty", ["encrypt", empty, "--key", sym], 0)
    c.expect("decrypt empty", ["decrypt", empty + ".enc", "--key", sym, "-o", empty + ".back"], 0)
    c.check("decrypt empty equal", os.path.isfile(empty + ".back") and read(empty + ".back") == b"")


def main():
    args = common.parse_args("brine keygen/sign/verify/encrypt/decrypt end to end")
    brine = common.find_brine(args.brine, PREFIX)
    os.environ.pop("BRINE_KEY_FILE", None)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    c = Checker(brine, summary, args.timeout)
    rng = np.random.RandomState(20261201)
    with common.TempDir(args.keep) as tmp:
        models, csv = fit_models(tmp, rng)
        ident, sym, other = test_keygen(c, tmp)
        test_signatures(c, tmp, models, csv, ident)
        test_checksums(c, tmp, models)
        test_encryption(c, tmp, models, csv, sym, other)
        for cmd in ("keygen", "sign", "verify", "encrypt", "decrypt"):
            c.expect("%s --help" % cmd, [cmd, "--help"], 0, stdout_has="usage: brine " + cmd)
    sys.exit(summary.finish())


if __name__ == "__main__":
    main()
