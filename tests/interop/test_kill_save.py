#!/usr/bin/python3
"""SIGKILL in the middle of saving never damages the file being replaced.

A RandomForestClassifier fitted by Debian's sklearn on random labels (deep
trees, tens of MB) is saved with joblib.  `brine convert big.joblib
out.joblib --compress zlib:1` writes the first version of out.joblib (v1);
then `brine convert ... --compress 3` (v3) is started again and again and
killed with SIGKILL after a random delay, most of them while it writes.  After
every kill, out.joblib must be byte for byte v1, or v3 once a run has
finished; the directory must hold no temporary files (brine writes into an
unnamed O_TMPFILE file and names it only just before the rename, see
docs/integrity.md); and at the end out.joblib loads in joblib and predicts
as the original.  `brine encrypt` (which writes in chunks) is killed the same
way, and a load of the encrypted model is shown to need no more memory
than a load of the plain one (the ciphertext is never held whole).

Usage: /usr/bin/python3 tests/interop/test_kill_save.py --brine build/brine
Last line: `interop-kill-save: P passed, F failed`.
"""

import hashlib
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-kill-save"
common.require_packages(PREFIX)

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

KILLS = 24
ENCRYPT_KILLS = 8


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def timed(argv):
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, time.monotonic() - t0, p.stderr.decode(errors="replace")


def peak_rss(argv):
    """The child's peak resident memory in MB, or None when it failed."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024.0 if status == 0 else None


def leftovers(directory, base):
    """Names brine's writer could leave: its temporaries for base."""
    return sorted(n for n in os.listdir(directory) if n.startswith("." + base + ".tmp"))


def kill_loop(summary, label, argv, directory, target, allowed, finished_digest, delays, is_new=None):
    """Starts argv once per delay and SIGKILLs it after that delay; after each
    kill target must be one of the allowed digests (finished_digest joins
    them once a run completes) and no temporaries may remain.  A kill can
    land after the new file is in place but before the process exits; where
    the new bytes are not known in advance (encrypt), is_new(target) says
    whether the file is a whole new version, which then becomes the one
    allowed."""
    completed = killed = 0
    for k, delay in enumerate(delays):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        rc = p.wait()
        if rc == 0:
            completed += 1
            # From now on only the new version may be there: its bytes are
            # known in advance (convert), or new each time (encrypt: a fresh
            # nonce).
            allowed.clear()
            allowed.add(finished_digest or digest(target))
        elif rc != -signal.SIGKILL:
            summary.fail("%s run %d" % (label, k), "exit %d (neither success nor SIGKILL)" % rc)
            continue
        have = digest(target) if os.path.exists(target) else None
        if have is not None and have not in allowed and is_new and is_new(target):
            allowed.clear()
            allowed.add(have)
        left = leftovers(directory, os.path.basename(target))
        if have not in allowed:
            summary.fail("%s run %d: %s damaged" % (label, k, target),
                         "after %s at %.3f s the file is neither the previous nor the new version"
                         % ("SIGKILL" if rc else "success", delay))
        elif left:
            summary.fail("%s run %d: temporaries left" % (label, k), ", ".join(left))
            for n in left:
                os.unlink(os.path.join(directory, n))
        else:
            summary.ok()
    print("%s: %d runs, %d killed, %d finished" % (label, len(delays), killed, completed))
    return killed


def main():
    args = common.parse_args("SIGKILL while brine saves: the old file stays intact")
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    rng = np.random.RandomState(7)
    with common.TempDir(args.keep) as tmp:
        X = rng.rand(20000, 8)
        y = rng.randint(0, 3, 20000)  # random labels: deep trees, a large model
        model = RandomForestClassifier(n_estimators=32, random_state=0, n_jobs=2).fit(X, y)
        big = os.path.join(tmp, "big.joblib")
        joblib.dump(model, big)
        print("model: %.1f MB" % (os.path.getsize(big) / 1e6))

        out = os.path.join(tmp, "out.joblib")
        rc, t1, err = timed([brine, "convert", big, out, "--compress", "zlib:1"])
        if rc != 0:
            summary.fail("first version", err)
            sys.exit(summary.finish())
        v1 = digest(out)
        ref = os.path.join(tmp, "ref.joblib")
        rc, t3, err = timed([brine, "convert", big, ref, "--compress", "3"])
        rc2, t3b, _ = timed([brine, "convert", big, ref + "2", "--compress", "3"])
        t3 = min(t3, t3b)  # a busy machine makes runs slower, rarely faster
        if rc != 0 or rc2 != 0 or digest(ref) != digest(ref + "2"):
            summary.fail("reference version", "convert fails or is not deterministic: " + err)
            sys.exit(summary.finish())
        v3 = digest(ref)
        _, t_load, _ = timed([brine, "inspect", big, "--depth", "1"])
        print("convert: %.2f s (load alone %.2f s)" % (t3, t_load))

        # Half the delays spread over the whole run, half inside the save
        # (after the load), a few beyond the end so that some runs finish.
        pick = random.Random(20261201)
        delays = [pick.uniform(0, t3) for _ in range(KILLS // 2)] + \
                 [pick.uniform(min(t_load, t3 * 0.8), t3) for _ in range(KILLS // 2 - 2)] + [t3 * 2, t3 * 2]
        pick.shuffle(delays)
        argv = [brine, "convert", big, out, "--compress", "3"]
        killed = kill_loop(summary, "convert", argv, tmp, out, {v1}, v3, delays)
        if killed < KILLS // 3:
            summary.fail("convert kills", "only %d of %d runs were killed mid-way" % (killed, KILLS))

        # The final file loads in Python and predicts as the original.
        loaded = joblib.load(out)
        same = (loaded.predict_proba(X[:500]) == model.predict_proba(X[:500])).all()
        summary.ok() if same else summary.fail("final file", "predicts differently")
        res = common.run_brine(brine, ["inspect", out, "--depth", "1"], args.timeout)
        summary.ok() if res.rc == 0 else summary.fail("final file in brine", res.describe())

        # brine encrypt writes in chunks: killed, the old .enc stays whole.
        key = os.path.join(tmp, "k")
        enc = os.path.join(tmp, "big.enc")
        common.run_brine(brine, ["keygen", "--symmetric", "-o", key], args.timeout)
        rc, t_enc, err = timed([brine, "encrypt", out, "--key", key, "-o", enc])
        if rc != 0:
            summary.fail("encrypt", err)
            sys.exit(summary.finish())
        old = digest(enc)
        delays = [pick.uniform(0, t_enc) for _ in range(ENCRYPT_KILLS)]
        plain = digest(big)

        def whole_encryption_of_big(path):
            dec = os.path.join(tmp, "check.dec")
            res = common.run_brine(brine, ["decrypt", path, "--key", key, "-o", dec], args.timeout)
            ok = res.rc == 0 and digest(dec) == plain
            if os.path.exists(dec):
                os.unlink(dec)
            return ok
        kill_loop(summary, "encrypt", [brine, "encrypt", big, "--key", key, "-o", enc], tmp, enc, {old},
                  None, delays, whole_encryption_of_big)
        res = common.run_brine(brine, ["decrypt", enc, "--key", key, "-o", os.path.join(tmp, "dec")], args.timeout)
        summary.ok() if res.rc == 0 else summary.fail("encrypted file after kills", res.describe())

        # Opening an encrypted model holds the plaintext only, never the
        # ciphertext beside it: its peak memory is the plain file's.
        fresh = os.path.join(tmp, "fresh.enc")
        common.run_brine(brine, ["encrypt", big, "--key", key, "-o", fresh], args.timeout)
        plain_rss, enc_rss = (peak_rss([brine, "inspect", path, "--depth", "1", "--key", key])
                              for path in (big, fresh))
        mb = os.path.getsize(big) / 1e6
        print("peak memory: plain %.1f MB, encrypted %.1f MB (file %.1f MB)" % (plain_rss, enc_rss, mb))
        if enc_rss is None or plain_rss is None or enc_rss > plain_rss + mb / 3:
            summary.fail("memory of an encrypted load", "plain %s MB, encrypted %s MB" % (plain_rss, enc_rss))
        else:
            summary.ok()
    sys.exit(summary.finish())


if __name__ == "__main__":
    main()
