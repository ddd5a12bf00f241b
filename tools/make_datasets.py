#!/usr/bin/python3
"""Writes data/<name>.csv for the data sets `brine train` knows by name,
from Debian's scikit-learn loaders: the feature columns under sklearn's
feature names, then `target`.  Floats are written as Python's repr, so
each reads back to the very double the loader returned; the interop test
tests/interop/test_train.py checks the shipped files against the loaders."""
import csv, os, sys
from sklearn import datasets

LOADERS = {"iris": datasets.load_iris, "wine": datasets.load_wine,
           "breast_cancer": datasets.load_breast_cancer,
           "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}


def cell(v):
    return repr(float(v))


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, load in LOADERS.items():
        b = load()
        names = [str(n) for n in b.feature_names]
        path = os.path.join(out_dir, name + ".csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(names + ["target"])
            integral = b.target.dtype.kind in "iu"
            for row, t in zip(b.data, b.target):
                w.writerow([cell(v) for v in row] + [str(int(t)) if integral else cell(t)])
        print(path, b.data.shape)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data"))
