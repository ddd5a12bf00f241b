#!/usr/bin/python3
"""Text vectorizers: brine predict on documents equals Debian's sklearn.

Fits CountVectorizer, TfidfVectorizer and TfidfTransformer with varied
parameters (lowercase on/off, word n-grams, char and char_wb analyzers,
binary, dtype, norm l1/l2/None, sublinear_tf, use_idf off, smooth_idf off,
strip_accents, stop words, another token pattern) on a small corpus of ASCII
and non-ASCII text (accents, German ß, Turkish İ, Greek with final sigma, CJK,
emoji, digits, underscores), and the pipelines TfidfVectorizer ->
LogisticRegression, CountVectorizer -> MultinomialNB, TfidfVectorizer ->
ComplementNB, TfidfVectorizer -> LinearSVC and CountVectorizer ->
TfidfTransformer -> SGDClassifier; saves them as pickle (protocols 2-5) and
joblib (zlib, lz4) and
compares `brine predict DOCS.csv --method M -o out.npy` with sklearn for every
method: transform bit for bit (counts and tf-idf values), labels exactly,
linear scores after the sparse hand-off bit for bit (scipy's csr @ dense
order), naive Bayes within 1e-9 relative.  Files brine writes back (`brine
convert`) reload in Python with equal outputs.  Wild file 025
(TfidfVectorizer, sklearn 0.21.3) is checked against an independent
evaluation of its own vocabulary and idf matrix (common.inert_load, Python's
re, scipy's summation order).  The idf_ array layout of sklearn >= 1.5 is
emulated from 1.2.1 fits (no real file of it is in the wild corpus) and
checked against that version's formula."""
import csv
import math
import os
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "text"
ALL_SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
               ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]
P4 = [("p4", "pickle", 4)]

TRAIN = [
    "The quick brown fox jumps over the lazy dog",
    "the dog sleeps; THE FOX runs away, quickly!",
    "Café crème brûlée à la carte, naïve façade",
    "Die Straße ist groß und STRASSE heißt street",
    "İstanbul İzmir ıspanak Iğdır in Türkiye",
    "ΟΔΥΣΣΕΥΣ Σίσυφος σοφός λόγος ΛΟΓΟΣ",
    "東京タワー 北京 漢字 かな カナ",
    "emoji 🙂 party🎉time 👍🏽 ok",
    "snake_case x_y __init__ 42 3.14 1e10 2024",
    "tab\tseparated  double  spaces\u00a0nbsp\u2003em",
    "a b c dd ee ff the and of",
    "good movie great film good fun",
]
TEST = TRAIN + [
    "Completely unseen vocabulary here",
    "FOX fox Fox fOx dog DOG",
    "CAFÉ Café cafe\u0301 caf\u00e9",
    "ΣΊΣΥΦΟΣ ΟΔΥΣΣΕΥΣ. σοφόΣ",
    "İİ ii İi",
    "x",
    "١٢٣ ٤٥ digits ²³ ½ Ⅻ",
    "good good good movie",
]
LABELS3 = ["en", "en", "fr", "de", "tr", "el", "ja", "en", "code", "en", "en", "en"]


def fit_models():
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.svm import LinearSVC
    from sklearn.naive_bayes import MultinomialNB, ComplementNB
    from sklearn.pipeline import make_pipeline
    y = [0 if l == "en" else 1 if l in ("fr", "de", "tr") else 2 for l in LABELS3]
    yb = ["pos" if l == "en" else "neg" for l in LABELS3]
    m = []

    def add(name, est, target=None, sources=P4):
        m.append((name, est.fit(TRAIN, target) if target is not None else est.fit(TRAIN), sources))

    add("count", CountVectorizer(), sources=ALL_SOURCES)
    add("count_nolower_bigram", CountVectorizer(lowercase=False, ngram_range=(1, 2)))
    add("count_char13", CountVectorizer(analyzer="char", ngram_range=(1, 3)))
    add("count_charwb_binary", CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), binary=True))
    add("count_accents_unicode", CountVectorizer(strip_accents="unicode"))
    add("count_ascii_stop_bigram", CountVectorizer(strip_accents="ascii", stop_words="english", ngram_range=(1, 2)))
    add("count_pattern_f32", CountVectorizer(token_pattern=r"(?u)\b\w+\b", dtype=np.float32))
    add("count_group_pattern", CountVectorizer(token_pattern=r"(\w)\w*", lowercase=False))
    add("count_char_int8", CountVectorizer(analyzer="char", dtype=np.int8))
    add("tfidf", TfidfVectorizer(), sources=ALL_SOURCES)
    add("tfidf_l1_sublinear", TfidfVectorizer(norm="l1", sublinear_tf=True))
    add("tfidf_none_noidf", TfidfVectorizer(norm=None, use_idf=False))
    add("tfidf_charwb_f32", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), dtype=np.float32))
    add("tfidf_nosmooth_sublinear_bigram", TfidfVectorizer(smooth_idf=False, sublinear_tf=True, ngram_range=(1, 2)))
    add("tfidf_maxfeat_stoplist", TfidfVectorizer(max_features=12, stop_words=["the", "and", "of"], binary=True))
    add("tfidf_unicode_char_l1", TfidfVectorizer(strip_accents="unicode", analyzer="char", ngram_range=(2, 2),
                                                 norm="l1", lowercase=False))
    add("count_then_tfidf", make_pipeline(CountVectorizer(ngram_range=(1, 2)), TfidfTransformer(sublinear_tf=True)))
    add("pipe_tfidf_logreg", make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)), y,
        sources=ALL_SOURCES)
    add("pipe_tfidf_logreg_bin", make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)),
                                               LogisticRegression(C=10.0)), yb)
    add("pipe_charwb_linsvc", make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)),
                                            LinearSVC(random_state=0)), y)
    add("pipe_count_tfidf_sgd", make_pipeline(CountVectorizer(), TfidfTransformer(norm="l1"),
                                              SGDClassifier(loss="log_loss", random_state=0)), yb)
    add("pipe_count_mnb", make_pipeline(CountVectorizer(), MultinomialNB()), y)
    add("pipe_tfidf_cnb", make_pipeline(TfidfVectorizer(), ComplementNB()), yb)
    return m


def reference(np, model):
    """{method: sklearn's output} for the test documents (dense)."""
    ref = {}
    for meth in ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform"):
        if not hasattr(model, meth):
            continue
        try:
            out = getattr(model, meth)(TEST)
        except AttributeError:
            continue
        out = out.toarray() if hasattr(out, "toarray") else np.asarray(out)
        ref[meth] = out
    return ref


def tolerance(name, meth):
    if meth == "predict":
        return None
    if "nb" in name.split("_")[-1] and meth != "transform":
        return 1e-9  # the naive Bayes family densifies the sparse rows (docs/support/text.md)
    return 0.0


def compare(np, got, want, tol):
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if tol is None:
        return None if np.array_equal(got, want) else "labels differ: %s vs %s" % (got[:5], want[:5])
    want = np.ascontiguousarray(want, dtype=np.float64)
    got = np.ascontiguousarray(got, dtype=np.float64)
    if tol == 0.0:
        if np.array_equal(got.view(np.uint8), want.view(np.uint8)):
            return None
        bad = np.argwhere(got != want)
        return "not bit-identical at %d cells, first %s: %r vs %r" % (
            len(bad), bad[0].tolist() if len(bad) else "-", got[tuple(bad[0])] if len(bad) else 0,
            want[tuple(bad[0])] if len(bad) else 0)
    fin = np.isfinite(want)
    if np.array_equal(np.isneginf(got), np.isneginf(want)) and \
            np.allclose(got[fin], want[fin], rtol=tol, atol=tol * max(1.0, np.max(np.abs(want[fin]), initial=0))):
        return None
    return "max abs diff %g" % np.max(np.abs(got[fin] - want[fin]))


def write_docs(path, docs, header="doc"):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([header])
        for d in docs:
            w.writerow([d])


def written_back(np, brine, tmp, name, path, model, targets, summary, timeout):
    """brine convert path into targets; Python reloads each; every method
    gives what model gives (sparse outputs densified)."""
    import pickle
    import joblib
    checked = 0
    ref = reference(np, model)
    for suffix, flags in targets:
        out = os.path.join(tmp, "%s.back.%s" % (name, suffix))
        res = common.run_brine(brine, ["convert", path, out, "--no-meta"] + flags, timeout=timeout)
        label = "%s/write-back/%s" % (name, suffix)
        if res.crash_reason() or res.rc != 0:
            summary.fail(label, "  brine convert %s\n%s" % (res.crash_reason() or "failed", res.describe()))
            continue
        try:
            if suffix.endswith(".pkl"):
                with open(out, "rb") as f:
                    back = pickle.load(f)
            else:
                back = joblib.load(out)
        except Exception as e:  # noqa: BLE001 - any failure to load is the finding
            summary.fail(label, "  Python cannot load it: %r" % (e,))
            continue
        got = reference(np, back)
        bad = [m for m in ref if m not in got or ref[m].dtype != got[m].dtype or not np.array_equal(ref[m], got[m])]
        if type(back) is not type(model) or bad:
            summary.fail(label, "  reloaded %s differs in %s" % (type(back).__name__, bad or "class"))
            continue
        summary.ok()
        checked += 1
    return checked


# ------------------------------------------------------------- wild 025

def wild_expected(np, o, docs):
    """TfidfVectorizer.transform from the file's own vocabulary_ and
    _idf_diag (read inert): Python's re and str.lower, counts, the csr
    product (each row in reverse column order, as scipy's csr_matmat leaves
    a product with a diagonal), then the l2 norm summed in that order."""
    assert o.analyzer == "word" and o.preprocessor is None and o.tokenizer is None
    assert o.stop_words is None and tuple(o.ngram_range) == (1, 1) and not o.binary
    tf = o._tfidf
    diag = tf._idf_diag
    n = diag._shape[0]
    idf = np.zeros(n)
    for r in range(n):
        for k in range(diag.indptr[r], diag.indptr[r + 1]):
            assert diag.indices[k] == r
            idf[r] = diag.data[k]
    pat = re.compile(o.token_pattern)
    out = np.zeros((len(docs), n))
    for i, d in enumerate(docs):
        if o.lowercase:
            d = d.lower()
        counts = {}
        for t in pat.findall(d):
            if t in o.vocabulary_:
                j = int(o.vocabulary_[t])
                counts[j] = counts.get(j, 0) + 1
        cols = sorted(counts, reverse=True)
        vals = [float(counts[j]) * idf[j] for j in cols]
        if tf.sublinear_tf or not tf.use_idf or tf.norm != "l2":
            raise AssertionError("025's parameters changed")
        s = 0.0
        for v in vals:
            s += v * v
        if s:
            s = math.sqrt(s)
            vals = [v / s for v in vals]
        for j, v in zip(cols, vals):
            out[i, j] = v
    return out


def check_wild(np, brine, summary, tmp, timeout):
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    path = os.path.join(wild, rows["025"]["file"])
    o = common.inert_load(path)
    terms = sorted(o.vocabulary_, key=lambda t: int(o.vocabulary_[t]))
    # documents made of the file's own terms (upper and mixed case too), and others
    rng = np.random.RandomState(25)
    docs = []
    for i in range(12):
        k = rng.randint(1, 8)
        words = [terms[j] for j in rng.randint(0, len(terms), size=k)]
        words = [w.upper() if rng.rand() < 0.3 else w for w in words]
        docs.append(" ".join(words) + (" unknownword" if i % 3 == 0 else ""))
    docs.append("nothing from the vocabulary at all")
    xpath = os.path.join(tmp, "wild025.csv")
    write_docs(xpath, docs)
    out = os.path.join(tmp, "wild025.npy")
    res = common.run_brine(brine, ["predict", path, xpath, "-o", out], timeout=timeout)
    if res.crash_reason() or res.rc != 0:
        summary.fail("wild 025 TfidfVectorizer/transform", "  brine failed\n" + res.describe())
        return 1
    d = compare(np, np.load(out), wild_expected(np, o, docs), 0.0)
    if d:
        summary.fail("wild 025 TfidfVectorizer/transform", "  " + d)
    else:
        summary.ok()
    return 1


# -------------------------------------------------------------- refusals

def check_refusals(np, brine, summary, tmp, timeout, models):
    """Numbers given to a vectorizer, a custom tokenizer (a __main__
    function: a refused global), methods a vectorizer lacks."""
    import pickle
    n = 0
    vec = dict((name, est) for name, est, _ in models)["count"]
    path = os.path.join(tmp, "count.p4")
    xnum = os.path.join(tmp, "numbers.npy")
    np.save(xnum, np.ones((3, 1)))
    for args, why in ((["predict", path, xnum, "--method", "transform"], "numbers to a vectorizer"),
                      (["predict", path, os.path.join(tmp, "docs.csv"), "--method", "predict"], "predict of a vectorizer")):
        res = common.run_brine(brine, args, timeout=timeout)
        n += 1
        if res.crash_reason() or res.rc != 2 or common.one_line_error(res):
            summary.fail("refuse/" + why, "  expected exit 2 with one line\n" + res.describe())
        else:
            summary.ok()
    main = sys.modules["__main__"]
    main.my_tokenizer = my_tokenizer
    my_tokenizer.__module__ = "__main__"
    from sklearn.feature_extraction.text import CountVectorizer
    t = CountVectorizer(tokenizer=my_tokenizer, token_pattern=None).fit(TRAIN)
    tpath = os.path.join(tmp, "tokenizer.pkl")
    with open(tpath, "wb") as f:
        pickle.dump(t, f, protocol=4)
    res = common.run_brine(brine, ["predict", tpath, os.path.join(tmp, "docs.csv")], timeout=timeout)
    n += 1
    if res.crash_reason() or res.rc != 2 or "__main__.my_tokenizer" not in res.stderr_text:
        summary.fail("refuse/custom tokenizer", "  expected exit 2 naming __main__.my_tokenizer\n" + res.describe())
    else:
        summary.ok()
    res = common.run_brine(brine, ["predict", tpath, os.path.join(tmp, "docs.csv"), "--trust", "__main__:my_tokenizer"],
                           timeout=timeout)
    n += 1
    if res.crash_reason() or res.rc != 2 or "tokenizer" not in res.stderr_text or \
            "__main__.my_tokenizer" not in res.stderr_text:
        summary.fail("refuse/trusted custom tokenizer", "  expected exit 2 (unsupported tokenizer)\n" + res.describe())
    else:
        summary.ok()
    del vec
    return n


def my_tokenizer(s):
    return s.split()


def check_transformer_on_numbers(np, brine, summary, tmp, timeout):
    """A standalone TfidfTransformer on a CSV of counts."""
    from sklearn.feature_extraction.text import TfidfTransformer
    import pickle
    rng = np.random.RandomState(3)
    C = rng.poisson(0.7, size=(20, 6)).astype(np.float64)
    C[0] = 0
    n = 0
    for name, t in (("tt_default", TfidfTransformer()), ("tt_l1_sub", TfidfTransformer(norm="l1", sublinear_tf=True)),
                    ("tt_noidf", TfidfTransformer(use_idf=False, norm=None))):
        t.fit(C[:15].astype(np.int64))
        path = os.path.join(tmp, name + ".pkl")
        with open(path, "wb") as f:
            pickle.dump(t, f, protocol=4)
        xpath = os.path.join(tmp, name + ".npy")
        np.save(xpath, C)
        out = os.path.join(tmp, name + ".out.npy")
        res = common.run_brine(brine, ["predict", path, xpath, "-o", out], timeout=timeout)
        n += 1
        if res.crash_reason() or res.rc != 0:
            summary.fail(name, "  brine failed\n" + res.describe())
            continue
        d = compare(np, np.load(out), t.transform(C).toarray(), 0.0)
        if d:
            summary.fail(name + "/transform", "  " + d)
        else:
            summary.ok()
    return n


def check_newer_layout(np, brine, summary, tmp, timeout, xpath):
    """sklearn >= 1.5 keeps TfidfTransformer.idf_ as an array (no
    _idf_diag) and multiplies it into the stored values (X.data *=
    idf_[X.indices]) before normalize.  Emulated from 1.2.1 fits (their
    _idf_diag replaced by idf_ in the state) and compared with that formula
    in numpy/sklearn's normalize: no real file of that layout is in the wild
    corpus."""
    import pickle
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.preprocessing import normalize
    n = 0
    for name, v in (("newer_l2_sublinear", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))),
                    ("newer_l1_f32", TfidfVectorizer(norm="l1", dtype=np.float32, analyzer="char_wb")),
                    ("newer_none", TfidfVectorizer(norm=None))):
        v.fit(TRAIN)
        tt = v._tfidf
        idf = np.asarray(tt.idf_, dtype=v.dtype)
        del tt.__dict__["_idf_diag"]
        tt.__dict__["idf_"] = idf
        for o in (v, tt):
            o.__dict__["_sklearn_version"] = "1.5.2"
        X = CountVectorizer.transform(v, TEST)
        X = X.astype(np.float64) if X.dtype.kind != "f" else X
        if tt.sublinear_tf:
            np.log(X.data, X.data)
            X.data += 1.0
        X.data *= idf[X.indices]
        if tt.norm is not None:
            X = normalize(X, norm=tt.norm, copy=False)
        path = os.path.join(tmp, name + ".pkl")
        with open(path, "wb") as f:
            pickle.dump(v, f, protocol=4)
        out = os.path.join(tmp, name + ".out.npy")
        res = common.run_brine(brine, ["predict", path, xpath, "-o", out], timeout=timeout)
        n += 1
        if res.crash_reason() or res.rc != 0:
            summary.fail(name, "  brine failed\n" + res.describe())
            continue
        d = compare(np, np.load(out), X.toarray(), 0.0)
        if d:
            summary.fail(name + "/transform", "  " + d)
        else:
            summary.ok()
    return n


def check_column_transformer(np, brine, summary, tmp, timeout):
    """A TfidfVectorizer on one column of a ColumnTransformer (text and a
    number a row) before a LogisticRegression: the encoders' family hands
    the column over and stacks the rows densely, so the scores agree within
    CONVENTIONS' 1e-9 for linear models (sklearn's stacked rows are sparse)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X = np.array([[d, float(i % 5)] for i, d in enumerate(TRAIN)], dtype=object)
    T = np.array([[d, float(i % 7)] for i, d in enumerate(TEST)], dtype=object)
    y = [i % 3 for i in range(len(TRAIN))]
    p = make_pipeline(ColumnTransformer([("t", TfidfVectorizer(), 0), ("s", StandardScaler(), [1])]),
                      LogisticRegression()).fit(X, y)
    xpath = os.path.join(tmp, "ct.csv")
    with open(xpath, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["doc", "n"])
        for r in T:
            w.writerow([r[0], repr(r[1])])
    ref = {m: np.asarray(getattr(p, m)(T)) for m in ("predict", "predict_proba", "decision_function")}
    n = 0
    n += common.compare_in_every_format(brine, tmp, "ct_tfidf_logreg", p, xpath, ref, P4, timeout, summary,
                                        lambda meth, got, want: compare(np, got, want,
                                                                        None if meth == "predict" else 1e-9))
    return n


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    models = fit_models()
    checks = 0
    written = 0
    with common.TempDir(args.keep) as tmp:
        xpath = os.path.join(tmp, "docs.csv")
        write_docs(xpath, TEST)
        for k, (name, model, sources) in enumerate(models):
            ref = reference(np, model)
            checks += common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, sources, args.timeout, summary,
                lambda meth, got, want: compare(np, got, want, tolerance(name, meth)))
            targets = common.WRITE_BACK_TARGETS[k % 4:k % 4 + 1]  # each container, in turn
            written += written_back(np, brine, tmp, name, os.path.join(tmp, "%s.p4" % name), model, targets,
                                    summary, args.timeout)
        checks += check_transformer_on_numbers(np, brine, summary, tmp, args.timeout)
        checks += check_newer_layout(np, brine, summary, tmp, args.timeout, xpath)
        checks += check_column_transformer(np, brine, summary, tmp, args.timeout)
        checks += check_refusals(np, brine, summary, tmp, args.timeout, models)
        wild = check_wild(np, brine, summary, tmp, args.timeout)
    print("text: %d models, %d checks; %d files written back by brine equal in sklearn; "
          "%d wild-file check against an independent evaluation of its own arrays"
          % (len(models), checks, written, wild))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
