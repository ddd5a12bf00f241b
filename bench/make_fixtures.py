"""make_fixtures.py OUTDIR: the benchmark's data and models, made with
Debian's sklearn from fixed seeds.  Skips files that already exist."""
import os
import sys

import joblib
import numpy as np
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def path(name):
    return os.path.join(out, name)


def missing(*names):
    return any(not os.path.exists(path(n)) for n in names)


# Case 1: the iris forest, compress=3, and three rows to score.
if missing("iris_rf.joblib", "iris3.csv"):
    X, y = load_iris(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
    joblib.dump(rf, path("iris_rf.joblib"), compress=3)
    np.savetxt(path("iris3.csv"), X[[0, 60, 120]], delimiter=",", fmt="%r")

# Cases 2-5: a forest of 100 trees on 100 000 x 20, and 20 000 rows.
big = ("big.joblib", "big_z3.joblib", "rows.npy")
if missing(*big):
    X, y = make_classification(n_samples=120_000, n_features=20, n_informative=12, n_redundant=4,
                               flip_y=0.02, random_state=7)
    X = X.astype(np.float32)
    rf = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1).fit(X[:100_000], y[:100_000])
    rf.n_jobs = None
    joblib.dump(rf, path("big.joblib"))
    joblib.dump(rf, path("big_z3.joblib"), compress=3)
    np.save(path("rows.npy"), np.ascontiguousarray(X[100_000:]))

# Case 6: 200 small models (a depth-6 tree each, on iris-like data).
if missing("small/m199.joblib"):
    os.makedirs(path("small"), exist_ok=True)
    X, y = make_classification(n_samples=500, n_features=8, random_state=3)
    for i in range(200):
        t = DecisionTreeClassifier(max_depth=6, random_state=i).fit(X, y)
        joblib.dump(t, path("small/m%03d.joblib" % i))
