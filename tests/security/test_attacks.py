#!/usr/bin/python3
"""Hostile files against Python and against brine (SECURITY.md section 5).

    /usr/bin/python3 tests/security/test_attacks.py --brine build-asan/brine

1. make_attacks.py writes the corpus (attacks, benign twins, manifest) into
   a temporary directory.
2. Harm is proven in Python: every attack and every twin is loaded by its
   consumer in a throw-away child (load_child.py: Debian's python -I, fresh
   cwd, MARKER=<case>/marker, RLIMIT_AS 1 GiB, RLIMIT_CPU 10 s, timeout).
   An attack must harm: the marker appears (harm "marker"), os.environ
   changed ("environ"), or for denial of service ("dos") the child died by a
   signal, timed out (HANG_TIMEOUT s for files whose harm is a hang; their
   twins finish in milliseconds) or hit the memory limit (MemoryError).  A
   twin must load without an exception, leave no marker and change nothing.
3. brine is held to the manifest: `brine scan FILE --json` exits as
   expected, with the expected rules among its findings, the expected
   globals graded unknown or dangerous and at least the expected verdict;
   `brine inspect FILE` and `brine convert FILE OUT` refuse (exit 2, one
   stderr line naming the global and a byte offset, no output left behind);
   bombs (F) may instead load fine or fail cleanly, within 10 s (20 s for
   sanitizer builds) and, in normal builds, 1 GiB of address space; a
   hostile estimator state (F13) may be shown by inspect, but convert must
   refuse to write it out.  Twins are scanned in one batch and must be allowed and
   complete (exit 0; the zip twin of D5 is unsupported, exit 2).
Always: no brine crash (signal, exit >= 128, sanitizer report).

A missing /usr/bin/python3 package fails the test; it never skips.  The
last line is `interop-attacks: P passed, F failed` (one count per file).
"""

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))
import common  # noqa: E402
import seccommon  # noqa: E402

PREFIX = "interop-attacks"
PYTHON = "/usr/bin/python3"
HANG_TIMEOUT = 2.0      # wall seconds that prove a hang; the twin must
                        # finish in half of it (alone they take < 0.15 s)
LOAD_TIMEOUT = 30.0     # any other load
SEVERITY = {"allowed": 0, "unknown": 1, "dangerous": 2}
OFFSET_RE = re.compile(r"\bbyte \d+")


# ---------------------------------------------------------------- Python side

class Loader:
    """One load_child.py server; jobs are run one at a time."""

    def __init__(self):
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1"}
        self.p = subprocess.Popen([PYTHON, "-I", os.path.join(HERE, "load_child.py")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line.startswith('{"ready"'):
            raise RuntimeError("load_child.py did not start (is %s complete?)" % PYTHON)

    def run(self, job):
        self.p.stdin.write(json.dumps(job) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("load_child.py server died")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)


def hang_harm(entry):
    """Files whose harm to Python is a hang get the short timeout."""
    return entry["harm"] == "dos" and entry["technique"] in ("F6", "F12", "F13")


def python_job(entry, corpus, work, is_twin_of=None):
    """Prepare a case directory and the job for it."""
    case = os.path.join(work, entry["file"].replace("/", "__"))
    cwd = os.path.join(case, "cwd")
    os.makedirs(cwd)
    for name, src in entry.get("cwd_files", {}).items():
        shutil.copyfile(os.path.join(corpus, src), os.path.join(cwd, name))
    hang = hang_harm(is_twin_of or entry)
    return {"path": os.path.join(corpus, entry["file"]), "consumer": entry["consumer"], "then": entry["then"],
            "cwd": cwd, "marker": os.path.join(case, "marker"), "out": case,
            "timeout": HANG_TIMEOUT if hang else LOAD_TIMEOUT}


def child_result(job, res, wait_marker):
    """Merge what the server saw with what the child wrote."""
    try:
        with open(os.path.join(job["out"], "result.json")) as f:
            res.update(json.load(f))
    except (OSError, ValueError):
        res.setdefault("loaded", False)
        res.setdefault("exception", None)
    # the child waits for its own children, but a payload's grandchild may
    # still be finishing: give an attack's marker a moment
    t_end = time.monotonic() + (0.5 if wait_marker else 0.0)
    while not os.path.exists(job["marker"]) and time.monotonic() < t_end:
        time.sleep(0.02)
    res["marker"] = os.path.exists(job["marker"])
    try:
        with open(os.path.join(job["out"], "stderr"), "rb") as f:
            res["stderr_tail"] = f.read()[-600:].decode("utf-8", "replace")
    except OSError:
        res["stderr_tail"] = ""
    return res


def harm_of(entry, res):
    """None if the attack harmed Python as its manifest says, else why not."""
    kind = entry["harm"]
    if kind == "marker" and res["marker"]:
        return None
    if kind == "environ" and res.get("environ_changed"):
        return None
    if kind == "dos":
        exc = res.get("exception") or ""
        if res["timed_out"] or res["status"] < 0 or exc.startswith("MemoryError"):
            return None
    return "no harm (%s) in Python: %s" % (kind, describe_child(res))


def describe_child(res):
    return "status %s%s, %.2f s, loaded=%s, exception=%s, marker=%s%s" % (
        res["status"], " (timed out)" if res["timed_out"] else "", res["seconds"], res.get("loaded"),
        res.get("exception"), res["marker"],
        "\n    child stderr: " + res["stderr_tail"].strip().replace("\n", "\n    ") if res.get("stderr_tail") else "")


def twin_problem(res, attack):
    if attack and hang_harm(attack) and res["seconds"] > HANG_TIMEOUT / 2:
        return "the twin of a hang took %.2f s: the timeout proves nothing" % res["seconds"]
    if res["marker"]:
        return "the twin left the marker"
    if res.get("environ_changed"):
        return "the twin changed os.environ"
    if res["status"] != 0 or not res.get("loaded"):
        return "the twin did not load cleanly: " + describe_child(res)
    return None


# ---------------------------------------------------------------- brine side

def alternatives(spec):
    return spec.split("|")


def scan_problems(entry, res):
    """Problems with `brine scan FILE --json` of an attack."""
    probs = []
    want = entry["exit"] if isinstance(entry["exit"], list) else [entry["exit"]]
    if res.rc not in want:
        probs.append("scan exit %d, expected %s" % (res.rc, "/".join(map(str, want))))
    lines = [l for l in res.stdout_text.split("\n") if l.strip()]
    if len(lines) != 1:
        return probs + ["scan --json printed %d lines, expected 1" % len(lines)]
    try:
        doc = json.loads(lines[0])
    except ValueError as e:
        return probs + ["scan --json is not JSON: %s" % e]
    got_rules = {f.get("rule") for f in doc.get("findings", [])}
    for r in entry["rules"]:
        if not set(alternatives(r)) & got_rules:
            probs.append("expected rule %s among the findings, got %s" % (r, sorted(got_rules) or "none"))
    flagged = {"%s.%s" % (g["module"], g["name"]) for g in doc.get("globals", []) if g.get("grade") != "allowed"}
    flagged |= {f["global"] for f in doc.get("findings", []) if f.get("global")}
    for g in entry["globals"]:
        if not set(alternatives(g)) & flagged:
            probs.append("expected %s graded unknown or dangerous; flagged: %s" % (g, sorted(flagged) or "nothing"))
    verdict = doc.get("verdict")
    if SEVERITY.get(verdict, -1) < SEVERITY[entry["verdict"]]:
        probs.append("verdict %s, expected at least %s" % (verdict, entry["verdict"]))
    if probs:
        probs.append("scan said: " + lines[0][:900])
    return probs


def loader_problems(entry, res, out_path, what):
    """inspect/convert of an attack: refuse, or (bombs, hostile estimator
    state) load or fail cleanly; check_brine checks their time."""
    if entry["loader"][what] == "bounded":
        if res.rc == 0:
            return []
        if res.rc != 2:
            return ["%s exit %d, expected 0 or 2" % (what, res.rc)]
        err = common.one_line_error(res)
        return ["%s: %s: %r" % (what, err, res.stderr_text[:300])] if err else []
    probs = []
    if res.rc != 2:
        probs.append("%s exit %d, expected 2 (refused)" % (what, res.rc))
    err = common.one_line_error(res)
    text = res.stderr_text
    if err:
        probs.append("%s: %s: %r" % (what, err, text[:300]))
    names = [a for g in entry["globals"] for a in alternatives(g)] + entry["names"]
    if res.rc == 2 and not any(n in text for n in names):
        probs.append("%s: stderr names none of %s: %r" % (what, names, text.strip()[:300]))
    if res.rc == 2 and entry["offset"] and not OFFSET_RE.search(text):
        probs.append("%s: stderr gives no byte offset: %r" % (what, text.strip()[:300]))
    if out_path and os.path.exists(out_path):
        probs.append("%s left an output file behind" % what)
    return probs


def check_brine(brine, sanitized, entry, corpus, work):
    """The three commands on one attack.  F files (bombs) run under the
    memory limit in normal builds and must end within the bound."""
    path = os.path.join(corpus, entry["file"])
    bomb = entry["technique"].startswith("F")
    argv0 = seccommon.limited(brine, sanitized) if bomb else [brine]
    limit = seccommon.bound(sanitized)
    probs = []
    runs = [("scan", ["scan", path, "--json"], None), ("inspect", ["inspect", path], None)]
    out = os.path.join(work, entry["file"].replace("/", "__") + ".out.pkl")
    runs.append(("convert", ["convert", path, out], out))
    for what, argv, out_path in runs:
        res = common.run_brine(argv0[0], argv0[1:] + argv, timeout=60)
        crash = res.crash_reason()
        if crash:
            probs.append("brine %s crashed: %s\n%s" % (what, crash, res.describe()))
            continue
        if bomb and res.seconds > limit:
            probs.append("%s took %.1f s (bound %.0f s)" % (what, res.seconds, limit))
        probs += scan_problems(entry, res) if what == "scan" else loader_problems(entry, res, out_path, what)
    return probs


def scan_twins(brine, twins, corpus):
    """Scan all twins expected allowed in one brine process; problems by file."""
    probs = {}
    batch = [t for t in twins if t["exit"] == 0]
    paths = [os.path.join(corpus, t["file"]) for t in batch]
    res = common.run_brine(brine, ["scan", "--json"] + paths, timeout=600)
    crash = res.crash_reason()
    if crash:
        for t in batch:
            probs[t["file"]] = ["brine scan of the twins crashed: %s\n%s" % (crash, res.describe())]
        return probs
    docs = {}
    for line in res.stdout_text.split("\n"):
        if line.strip():
            try:
                d = json.loads(line)
                docs[d["file"]] = d
            except (ValueError, KeyError):
                pass
    for t, p in zip(batch, paths):
        d = docs.get(p)
        if d is None:
            probs[t["file"]] = ["no scan JSON line for the twin"]
        elif d.get("verdict") != "allowed" or not d.get("complete"):
            probs[t["file"]] = ["twin scanned %s, complete=%s: %s" % (d.get("verdict"), d.get("complete"),
                                                                    json.dumps(d)[:700])]
    if not probs and res.rc != 0:
        for t in batch:
            probs[t["file"]] = ["twin batch scan exit %d with every file allowed" % res.rc]
    for t in twins:
        if t["exit"] != 0:
            r = common.run_brine(brine, ["scan", "--json", os.path.join(corpus, t["file"])], timeout=60)
            if r.crash_reason() or r.rc != t["exit"]:
                probs[t["file"]] = ["twin scan exit %d, expected %d %s" % (r.rc, t["exit"], r.crash_reason() or "")]
    return probs


# ---------------------------------------------------------------- driver

def server_died(job, why):
    """The result of a job whose server died (the child's fate unknown)."""
    return {"status": 999, "timed_out": False, "seconds": 0.0, "exception": "load_child.py server died: %s" % why}


def run_python(entries, corpus, work, jobs, twin_of):
    """Load every file in a throw-away child; results by file."""
    results = {}
    todo = queue.Queue()
    # long (hanging) cases first, so they overlap with everything else
    for e in sorted(entries, key=lambda e: not hang_harm(twin_of.get(e["file"], e))):
        todo.put(e)

    def worker():
        loader = Loader()
        while True:
            try:
                e = todo.get_nowait()
            except queue.Empty:
                break
            job = python_job(e, corpus, work, twin_of.get(e["file"]))
            try:
                res = loader.run(job)
            except (RuntimeError, OSError) as ex:   # the server died: note it, start another
                res = server_died(job, ex)
                loader = Loader()
            results[e["file"]] = child_result(job, res, e["role"] == "attack" and e["harm"] == "marker")
        loader.close()

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    missing = [e["file"] for e in entries if e["file"] not in results]
    if missing:
        common.fail_hard(PREFIX, "no Python result for %d files (could load_child.py start?), e.g. %s"
                         % (len(missing), missing[0]))
    return results


def load_corpus(args, tmp):
    """Generate (or reuse) the corpus; returns (dir, attacks, twins)."""
    corpus = args.corpus or os.path.join(tmp, "corpus")
    if not args.corpus:
        import make_attacks
        make_attacks.generate(corpus)
    with open(os.path.join(corpus, "manifest.json")) as f:
        manifest = json.load(f)
    only = [s for s in args.only.split(",") if s]
    files = [e for e in manifest["files"] if e["role"] in ("attack", "twin")
             and (not only or any(s in e["case"] for s in only))]
    return corpus, [e for e in files if e["role"] == "attack"], [e for e in files if e["role"] == "twin"]


def run_all(brine, sanitized, corpus, attacks, twins, work, jobs):
    """Python loads and brine runs; returns (python results, brine problems
    by attack, twin scan problems)."""
    twin_of = {a["twin"]: a for a in attacks}
    brine_probs = {}

    def brine_one(e):
        brine_probs[e["file"]] = check_brine(brine, sanitized, e, corpus, work)
    # brine runs alongside the Python loads: much of the Python side waits
    # for hangs to time out, and the two sides share nothing
    bt = threading.Thread(target=common.run_parallel, args=(brine_one, attacks, 2))
    bt.start()
    py = run_python(attacks + twins, corpus, work, jobs, twin_of)
    bt.join()
    return py, brine_probs, scan_twins(brine, twins, corpus)


def judge(summary, attacks, twins, py, brine_probs, twin_probs):
    """Count each file; returns {consumer: attacks whose harm was proven}."""
    twin_of = {a["twin"]: a for a in attacks}
    harmed = {}
    for e in attacks:
        h = harm_of(e, py[e["file"]])
        if not h:
            harmed[e["consumer"]] = harmed.get(e["consumer"], 0) + 1
        report(summary, e, ([h] if h else []) + brine_probs[e["file"]])
    for e in twins:
        tp = twin_problem(py[e["file"]], twin_of.get(e["file"]))
        report(summary, e, ([tp] if tp else []) + twin_probs.get(e["file"], []))
    return harmed


def print_counts(attacks, twins, harmed, py):
    techs = sorted({t for e in attacks for t in e["techniques"]}, key=lambda t: (t[0], int(t[1:])))
    by_consumer = {}
    for e in attacks:
        by_consumer[e["consumer"]] = by_consumer.get(e["consumer"], 0) + 1
    slow = sorted(py.items(), key=lambda kv: -kv[1]["seconds"])[:5]
    print("%s: slowest Python loads: %s" % (PREFIX, ", ".join(
        "%s %.1f s" % (os.path.basename(f), r["seconds"]) for f, r in slow)))
    print("%s: %d techniques: %s" % (PREFIX, len(techs), " ".join(techs)))
    print("%s: %d files: %d attacks, %d twins" % (PREFIX, len(attacks) + len(twins), len(attacks), len(twins)))
    print("%s: harm proven in Python: %s" % (PREFIX, ", ".join(
        "%s %d/%d" % (c, harmed.get(c, 0), n) for c, n in sorted(by_consumer.items()))))
    return len(techs)


def main():
    def extra(p):
        p.add_argument("--only", default="", help="comma-separated substrings of case names")
        p.add_argument("--corpus", default="", help="use this generated corpus instead of generating one")
    args = common.parse_args(__doc__.split("\n")[1], extra)
    if not os.path.exists(PYTHON) or not os.path.samefile(sys.executable, PYTHON):
        common.fail_hard(PREFIX, "run this with %s (Debian's python with sklearn, joblib, numpy, lz4)" % PYTHON)
    common.require_packages(PREFIX)
    brine = common.find_brine(args.brine, PREFIX)
    sanitized = seccommon.is_sanitized(brine)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    t0 = time.monotonic()
    with common.TempDir(args.keep, prefix="brine-attacks-") as tmp:
        corpus, attacks, twins = load_corpus(args, tmp)
        print("%s: corpus of %d attacks and %d twins ready (%.1f s)" % (PREFIX, len(attacks), len(twins),
                                                                       time.monotonic() - t0))
        sys.stdout.flush()
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        py, brine_probs, twin_probs = run_all(brine, sanitized, corpus, attacks, twins, work, min(args.jobs, 3))
        harmed = judge(summary, attacks, twins, py, brine_probs, twin_probs)
        ntech = print_counts(attacks, twins, harmed, py)
        print("%s: %.1f s" % (PREFIX, time.monotonic() - t0))
        if not args.only and ntech < 30:
            summary.fail("technique count", "only %d distinct techniques (need >= 30)" % ntech)
    return summary.finish()


def report(summary, entry, probs):
    if probs:
        summary.fail("%s %s [%s, %s]" % (entry["role"], entry["file"], entry["technique"], entry["consumer"]),
                     "".join("  - %s\n" % p.replace("\n", "\n    ") for p in probs))
    else:
        summary.ok()


if __name__ == "__main__":
    sys.exit(main())
