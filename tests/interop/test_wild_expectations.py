#!/usr/bin/python3
"""brine against tests/wild_expectations.tsv: what it must do with each real file.

tests/wild_expectations.tsv has one row per row of /work/shared/wild/MANIFEST.tsv
(this test fails when a MANIFEST row has no expectation or an expectation has no
file) saying what `brine inspect FILE` and `brine predict FILE X.npy` must do:

  ok           exit 0; inspect prints the graph, predict one line per input row
  refuse       exit 2, one stderr line saying "refused global" and naming the reason
  unsupported  exit 2, one stderr line: brine cannot predict with this root yet
               ("cannot predict" or "not a fitted estimator"), naming the reason;
               later issues flip these rows to ok as estimators are added
  error        exit 2, one stderr line containing the reason

The files are untrusted and never unpickled here: Python copies bytes and reads
brine's JSON.  The multi-file model (002) is assembled first, its main file
under the basename of path_in_repo beside its sidecar .npy files, as
test_wild.py does.  X.npy holds 7 random float64 rows as wide as the model:
n_features_in_ (or the older n_features_) from `brine inspect --json`, else the
first Tree's n_features, else the n_features_in brine derives from the
fitted arrays, else 4 for roots brine cannot predict with; models that read
text (encoders of str categories: TEXT_INPUTS) get ROWS CSV rows of their own
categories instead.  Never a
crash (signal, sanitizer report) nor more than 30 s per command.

Usage: /usr/bin/python3 tests/interop/test_wild_expectations.py --brine build/brine
Last line: `interop-wild-expectations: P passed, F failed`.
"""

import csv
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-wild-expectations"
common.require_packages(PREFIX)

import numpy as np  # noqa: E402

EXPECTATIONS = os.path.join(common.REPO, "tests", "wild_expectations.tsv")
OUTCOMES = ("ok", "refuse", "unsupported", "error")
TIME_LIMIT = 30.0
ROWS = 7

# Files whose estimators take text: ROWS CSV rows with a header, written by
# hand from the categories `brine inspect` shows (values the files know).
TEXT_INPUTS = {
    "050": "reading_score,gender,race_ethnicity,parental_level_of_education,lunch,test_preparation_course,"
           "writing_score\n"
           + "".join("%d,%s,group %s,%s,%s,%s,%s\n" % (50 + 5 * i, ("female", "male")[i % 2], "ABCDE"[i % 5],
                                                      ("high school", "some college", "master's degree")[i % 3],
                                                      ("standard", "free/reduced")[i % 2],
                                                      ("none", "completed", "")[i % 3], "" if i == 3 else 61 + i)
                     for i in range(ROWS)),
    "073": "label\n" + "".join("%s\n" % ("Blast Disease", "Brown Spot Disease", "False Smut Disease",
                                          "Bacterial Blight Disease")[i % 4] for i in range(ROWS)),
    # a TfidfVectorizer of part-of-speech tags: one document (tag sequence) a row
    "025": "doc\n" + "".join("%s\n" % ("DT NN VBZ JJ", "PRP VBD DT JJ NN IN NNP", "NNS VBP RB JJ .",
                                        "WP MD VB TO VB", "UH NN", "CD NNS IN DT NN POS NN")[i % 6]
                             for i in range(ROWS)),
}


def read_tsv(path):
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def assemble(row, wild, tmp):
    """The file to give brine: the MANIFEST file, or for a multi-file model
    a directory holding it under its original name with its sidecars."""
    src = os.path.join(wild, row["file"])
    if "JOBLIB_MULTIFILE" not in row["flags"]:
        return src
    d = os.path.join(tmp, row["id"])
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, os.path.basename(row["path_in_repo"]))
    shutil.copyfile(src, dst)
    side = src + ".sidecars"
    for name in sorted(os.listdir(side)):
        shutil.copyfile(os.path.join(side, name), os.path.join(d, name))
    return dst


def find(node, label):
    return next((c for c in node.get("items", []) if c.get("label") == label), None)


def width(brine, path):
    """The model's input width as brine's JSON shows it, or 4."""
    res = common.run_brine(brine, ["inspect", path, "--json", "--depth", "6", "--items", "60"], timeout=TIME_LIMIT)
    if res.rc != 0:
        return 4
    doc = json.loads(res.stdout_text)
    root = doc["root"]
    state = find(root, "state: ") or {}
    for key in ("n_features_in_", "n_features_"):
        node = find(state, "'%s': " % key)
        if node and node["kind"] == "int":
            return int(node["summary"])
    coef = find(state, "'coef_': ")  # linear models older than n_features_in_
    m = re.search(r"shape \((?:\d+, )?(\d+),?\)", coef["summary"]) if coef else None
    if m:
        return int(m.group(1))
    tree = find(state, "'tree_': ")
    if tree is None:
        members = find(state, "'estimators_': ")
        first = members["items"][0] if members and members.get("items") else None
        tree = find(find(first, "state: ") or {}, "'tree_': ") if first else None
    args = find(tree, "args: ") if tree else None
    if args and args.get("items") and args["items"][0]["kind"] == "int":
        return int(args["items"][0]["summary"])
    # derived by brine from the fitted arrays (an MLP's coefs_[0] of 0.18)
    n = doc.get("n_features_in")
    return n if isinstance(n, int) and n > 0 else 4


def judge(what, res, outcome, reason, rows=None):
    """None when the run meets the expectation, else why not."""
    crash = res.crash_reason()
    if crash:
        return "%s: %s\n%s" % (what, crash, res.describe())
    if res.seconds > TIME_LIMIT:
        return "%s: took %.1f s" % (what, res.seconds)
    if outcome == "ok":
        if res.rc != 0:
            return "%s: exit %d, expected 0\n%s" % (what, res.rc, res.describe())
        if not res.stdout.strip():
            return "%s: exit 0 but printed nothing" % what
        if rows is not None and len(res.stdout_text.strip().split("\n")) != rows:
            return "%s: %d output lines for %d rows" % (what, len(res.stdout_text.strip().split("\n")), rows)
        return None
    if res.rc != 2:
        return "%s: exit %d, expected 2 (%s)\n%s" % (what, res.rc, outcome, res.describe())
    one = common.one_line_error(res)
    if one:
        return "%s: %s\n%s" % (what, one, res.describe())
    msg = res.stderr_text
    if reason not in msg:
        return "%s: stderr lacks %r\n%s" % (what, reason, res.describe())
    if outcome == "refuse" and "refused global" not in msg:
        return "%s: a refusal that does not say 'refused global'\n%s" % (what, res.describe())
    if outcome == "unsupported" and "cannot predict" not in msg and "not a fitted estimator" not in msg:
        return "%s: not an unsupported-estimator message\n%s" % (what, res.describe())
    return None


def check_row(brine, exp, row, wild, tmp):
    problems = []
    path = assemble(row, wild, tmp)
    r1 = common.run_brine(brine, ["inspect", path], timeout=TIME_LIMIT + 5)
    problems.append(judge("inspect", r1, exp["inspect"], exp["inspect_reason"]))
    inp = os.path.join(tmp, "%s.x.npy" % row["id"])
    rng = np.random.RandomState(int(row["id"]))
    if row["id"] in TEXT_INPUTS:
        inp = os.path.join(tmp, "%s.x.csv" % row["id"])
        with open(inp, "w") as f:
            f.write(TEXT_INPUTS[row["id"]])
    else:
        np.save(inp, rng.normal(size=(ROWS, width(brine, path))))
    r2 = common.run_brine(brine, ["predict", path, inp], timeout=TIME_LIMIT + 5)
    problems.append(judge("predict", r2, exp["predict"], exp["predict_reason"], ROWS))
    return problems, "i%d p%d" % (r1.rc, r2.rc)


def malformed(exp):
    for col in ("inspect", "predict"):
        if exp.get(col) not in OUTCOMES:
            return "%s is %r, expected one of %s" % (col, exp.get(col), ", ".join(OUTCOMES))
        reason = exp.get(col + "_reason")
        if (exp[col] == "ok") != (reason == "-") or not reason:
            return "%s_reason %r does not fit %s" % (col, reason, exp[col])
    return None


def main():
    args = common.parse_args(__doc__.split("\n")[1],
                             lambda p: p.add_argument("--wild", default=common.default_wild()))
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    try:
        manifest = read_tsv(os.path.join(args.wild, "MANIFEST.tsv"))
        expected = {e["id"]: e for e in read_tsv(EXPECTATIONS)}
    except OSError as e:
        common.fail_hard(PREFIX, "cannot read the manifest or %s: %s" % (EXPECTATIONS, e))
    ids = [r["id"] for r in manifest]
    extra = sorted(set(expected) - set(ids))
    missing = [i for i in ids if i not in expected]
    if extra or missing:
        summary.fail("wild_expectations.tsv covers MANIFEST.tsv",
                     "  rows without a file: %s; files without a row: %s" % (extra or "none", missing or "none"))
    else:
        summary.ok()
    table = {}
    with common.TempDir(args.keep, prefix="brine-wildexp-") as tmp:

        def run(row):
            exp = expected.get(row["id"])
            if exp is None:
                return
            bad = malformed(exp)
            problems, got = ([bad], "?") if bad else check_row(brine, exp, row, args.wild, tmp)
            for what, p in zip(("inspect", "predict"), problems + [None] * (2 - len(problems))):
                name = "%s %s (%s)" % (row["id"], what, exp.get(what))
                if p:
                    summary.fail(name, "  " + p.rstrip().replace("\n", "\n  "))
                else:
                    summary.ok()
            table[row["id"]] = "%-4s %-7s %-12s %-7s %s" % (row["id"], exp["inspect"], exp["predict"], got,
                                                           "FAIL" if any(problems) else "PASS")

        common.run_parallel(run, manifest, args.jobs)
    print("id   inspect predict      got     result")
    for fid in sorted(table):
        print(table[fid])
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
