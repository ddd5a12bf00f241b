#!/usr/bin/python3
"""brine on real model files from public repositories (/work/shared/wild).

These files are UNTRUSTED.  Nothing here unpickles them: Python only reads
MANIFEST.tsv and copies bytes; every file is opened by brine alone.

For each MANIFEST row (multi-file joblib models are first assembled in a
fresh directory: the main file under the basename of path_in_repo plus
the contents of files/<id>_*.sidecars/), run
    brine inspect FILE
    brine inspect FILE --json
and, to exercise the reader and writer on real files,
    brine convert FILE OUT.pkl --format pickle --protocol 4
    brine inspect OUT.pkl                 (only if the convert succeeded)

Expectations, from the MANIFEST's all_globals and flags columns:

  ok      every global is "plainly supported" -- its module starts with
          sklearn. / numpy / joblib. / _loss. (sklearn's Cython losses pickled
          under a bare module name, flag BARE_CYTHON_MODULE), or it is one of
          builtins.{set,frozenset,slice,bytearray,complex,bytes} (also spelt
          __builtin__.X: Python 3 writes that spelling at protocols 0-2),
          copyreg._reconstructor / copy_reg._reconstructor, _codecs.encode,
          scipy.sparse.{csr,_csr}.csr_matrix, scipy.sparse.{csc,_csc}.csc_matrix
          -- and no flag says DANGER, CORRUPT, NON_SKLEARN_MODULES or MAIN_REF.
          Then all four commands must exit 0, --json output must parse with
          json.loads.  This includes, by that rule:
            * SKLEARN_EXTERNALS_JOBLIB, NO_SKLEARN_VERSION (pre-0.18), and the
              old multi-file layout (JOBLIB_MULTIFILE, NDArrayWrapper + .npy);
            * JOBLIB_TEST_DATA files (joblib's own test data, root a list; the
              flag NON_SKLEARN_ROOT:builtins.list does not mean unparseable),
              including the old ZF zlib container (106);
            * CYTHON_PYX_UNPICKLE when its globals are numpy's
              (numpy.random.bit_generator.__pyx_unpickle_SeedSequence);
            * numpy ufuncs (numpy.core._multiarray_umath.log/exp, 047),
              numpy.ma (070), numpy.matrix (101-105), numpy.random pickling
              helpers (010, 053, 067, 068): all "start with numpy".
          FROM_HISTORY, DEV_OVERLAP_RISK, JOBLIB_INLINE_ARRAYS, SCIPY_SPARSE
          are provenance/content notes that change nothing.
  refuse  DANGER (code execution: eval, getattr, cloudpickle, torch tricks):
          inspect (both forms) and convert must exit 2 with one stderr line
          that names one of the file's non-plain globals (__builtin__ may be
          written builtins) and gives a byte offset (a digit), and convert must
          leave no output file.  Refusing is the only safe answer, so exit 0
          is a failure.
  error   CORRUPT (090: the gzip stream does not decompress): exit 2 with one
          stderr line, for every command.  There is no pickle to show, so
          exit 0 would mean brine made something up.
  either  everything else (foreign classes: pandas, xgboost, lightgbm, nltk,
          category_encoders, __main__ references, collections.*, builtins.type,
          _io.BytesIO ...): exit 0 (with parseable JSON) or exit 2 with one
          stderr line; whether inspect shows or refuses foreign globals is
          brine's policy.  Convert is run too and held to the same rule.

Always: no crash (signal, exit >= 128, sanitizer report) and no command
over 30 s.

Usage: /usr/bin/python3 tests/interop/test_wild.py --brine build/brine [--wild DIR]
Prints one table line per file (id, expected, got, seconds) and
`interop-wild: P passed, F failed`.
"""

import csv
import glob
import json
import os
import re
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-wild"

PLAIN_PREFIXES = ("sklearn.", "numpy", "joblib.", "_loss.")
PLAIN_NAMES = {
    "builtins.set", "builtins.frozenset", "builtins.slice", "builtins.bytearray", "builtins.complex",
    "builtins.bytes",
    "__builtin__.set", "__builtin__.frozenset", "__builtin__.slice", "__builtin__.bytearray",
    "__builtin__.complex", "__builtin__.bytes",
    "copyreg._reconstructor", "copy_reg._reconstructor", "_codecs.encode",
    "scipy.sparse.csr.csr_matrix", "scipy.sparse._csr.csr_matrix",
    "scipy.sparse.csc.csc_matrix", "scipy.sparse._csc.csc_matrix",
}
NOT_OK_FLAGS = {"DANGER", "CORRUPT", "NON_SKLEARN_MODULES", "MAIN_REF"}
TIME_LIMIT = 30.0


def plainly_supported(g):
    return g.startswith(PLAIN_PREFIXES) or g in PLAIN_NAMES


def split_flags(text):
    """Flags are ';'-separated, but a flag's parenthesised note may contain
    ';' too: split at depth 0 only.  Returns [(NAME, full text)]."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == ";" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    res = []
    for f in out:
        f = f.strip()
        if f:
            res.append((re.split(r"[:(]", f, 1)[0], f))
    return res


def expectation(row):
    flags = {name for name, _ in split_flags(row["flags"])}
    globs = [g for g in row["all_globals"].split(",") if g]
    foreign = [g for g in globs if not plainly_supported(g)]
    if "DANGER" in flags:
        return "refuse", foreign
    if "CORRUPT" in flags:
        return "error", foreign
    if foreign or flags & NOT_OK_FLAGS:
        return "either", foreign
    return "ok", foreign


def name_variants(g):
    v = {g}
    if g.startswith("__builtin__."):
        v.add("builtins." + g[len("__builtin__."):])
    if g.startswith("builtins."):
        v.add("__builtin__." + g[len("builtins."):])
    if g.startswith("copy_reg."):
        v.add("copyreg." + g[len("copy_reg."):])
    return v


def main():
    def extra(p):
        p.add_argument("--wild", default=common.default_wild(), help="directory with MANIFEST.tsv")
        p.add_argument("--no-convert", action="store_true", help="run inspect only")
    args = common.parse_args(__doc__.split("\n")[1], extra)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    manifest = os.path.join(args.wild, "MANIFEST.tsv")
    try:
        with open(manifest, newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as e:
        common.fail_hard(PREFIX, "cannot read %s: %s" % (manifest, e))
    if not rows:
        common.fail_hard(PREFIX, "%s has no rows" % manifest)

    table = {}
    lock = threading.Lock()
    t0 = time.monotonic()

    with common.TempDir(args.keep, prefix="brine-wild-") as tmp:

        def check_file(row):
            fid = row["id"]
            expect, foreign = expectation(row)
            problems = []
            got = []
            seconds = 0.0
            work = os.path.join(tmp, fid)
            os.makedirs(work)
            src = os.path.join(args.wild, row["file"])
            flags = split_flags(row["flags"])
            if any(name == "JOBLIB_MULTIFILE" for name, _ in flags):
                path = os.path.join(work, os.path.basename(row["path_in_repo"]))
                shutil.copyfile(src, path)
                side = glob.glob(os.path.join(args.wild, "files", "%s_*.sidecars" % fid))
                if len(side) != 1:
                    problems.append("expected one %s_*.sidecars folder, found %d" % (fid, len(side)))
                for d in side:
                    for entry in sorted(os.listdir(d)):
                        shutil.copyfile(os.path.join(d, entry), os.path.join(work, entry))
            else:
                path = src

            tokens = set()
            for g in foreign:
                tokens |= name_variants(g)
            for name, text in flags:
                if name == "DANGER":
                    for g in re.split(r"[,:]", text[len("DANGER"):]):
                        g = g.strip()
                        if "." in g and "(" not in g and "<" not in g:
                            tokens |= name_variants(g)

            def judge(what, res, need_json=False):
                """Check one brine run against the expectation; returns 0/2/'crash'/'?'."""
                nonlocal seconds
                seconds += res.seconds
                crash = res.crash_reason()
                if crash:
                    problems.append("%s: %s\n%s" % (what, crash, res.describe()))
                    return "crash"
                if res.seconds > TIME_LIMIT:
                    problems.append("%s: took %.1f s (limit %.0f s)" % (what, res.seconds, TIME_LIMIT))
                if res.rc == 0:
                    if expect in ("refuse", "error"):
                        problems.append("%s: exit 0, expected exit 2 (%s)\n%s" % (
                            what, "DANGER file must be refused" if expect == "refuse" else "CORRUPT file",
                            res.describe()))
                    if need_json:
                        try:
                            json.loads(res.stdout_text)
                        except ValueError as e:
                            problems.append("%s: --json output does not parse: %s; starts %r" % (
                                what, e, res.stdout_text[:200]))
                    elif what.startswith("inspect") and not res.stdout.strip():
                        problems.append("%s: exit 0 but printed nothing" % what)
                    return 0
                if res.rc == 2:
                    if expect == "ok":
                        problems.append("%s: exit 2, expected 0 (all globals plainly supported)\n%s" % (
                            what, res.describe()))
                    one = common.one_line_error(res)
                    if one:
                        problems.append("%s: %s\n%s" % (what, one, res.describe()))
                    if expect == "refuse":
                        msg = res.stderr_text
                        if not any(t in msg for t in tokens):
                            problems.append("%s: refusal does not name any of the file's foreign "
                                            "globals (%s)\n%s" % (what, ", ".join(sorted(foreign))[:300],
                                                                  res.describe()))
                        if not re.search(r"\d", msg):
                            problems.append("%s: refusal gives no byte offset\n%s" % (what, res.describe()))
                    return 2
                problems.append("%s: exit %d (the contract allows 0 and 2)\n%s" % (what, res.rc, res.describe()))
                return res.rc

            r1 = common.run_brine(brine, ["inspect", path], timeout=TIME_LIMIT + 5)
            got.append("i%s" % judge("inspect", r1))
            r2 = common.run_brine(brine, ["inspect", path, "--json"], timeout=TIME_LIMIT + 5)
            got.append("j%s" % judge("inspect --json", r2, need_json=True))
            if r1.rc != r2.rc and r1.rc in (0, 2) and r2.rc in (0, 2):
                problems.append("inspect exits %d but inspect --json exits %d" % (r1.rc, r2.rc))
            if not args.no_convert:
                out = os.path.join(work, "converted.pkl")
                r3 = common.run_brine(brine, ["convert", path, out, "--format", "pickle", "--protocol", "4"],
                                      timeout=TIME_LIMIT + 5)
                c = judge("convert", r3)
                got.append("c%s" % c)
                if c == 0:
                    if not os.path.isfile(out):
                        problems.append("convert: exit 0 but no output file")
                    else:
                        r4 = common.run_brine(brine, ["inspect", out], timeout=TIME_LIMIT + 5)
                        seconds += r4.seconds
                        crash = r4.crash_reason()
                        if crash or r4.rc != 0:
                            problems.append("inspect of brine's own converted output: %s\n%s" % (
                                crash or "exit %d" % r4.rc, r4.describe()))
                        got.append("r%s" % ("crash" if crash else r4.rc))
                elif os.path.exists(out) and expect == "refuse":
                    problems.append("convert refused a DANGER file but left an output file behind")
            status = "PASS" if not problems else "FAIL"
            line = "%-4s %-7s %-16s %6.2f  %s  %s" % (fid, expect, " ".join(got), seconds, status,
                                                       row["top_class"][:60])
            with lock:
                table[fid] = line
            if problems:
                summary.fail("%s %s (%s, expected %s)" % (fid, row["file"], row["top_class"][:60], expect),
                             "\n".join("  " + p.rstrip().replace("\n", "\n  ") for p in problems))
            else:
                summary.ok()
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)

        common.run_parallel(check_file, rows, args.jobs)

    print("id   expect  got              seconds  result  top class")
    print("     (i=inspect j=inspect --json c=convert r=inspect of converted output; "
          "numbers are exit codes)")
    for fid in sorted(table):
        print(table[fid])
    print("wild: %d files in %.1f s" % (len(rows), time.monotonic() - t0))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
