#!/usr/bin/env bash
# demo.sh — the seeds' workflow end to end, without Python in the loop:
# brine trains RandomForestClassifier(n_estimators=100, random_state=42) on
# iris, saves it as a pickle and as a joblib file (compress=3), loads each
# back and predicts the first three rows.  Then Python loads brine's files:
# real sklearn estimators whose trees are the very trees sklearn grows.
set -eu
cd "$(dirname "$0")"
. tools/deps.sh
brine_need $BRINE_BUILD_PKGS $BRINE_PY_PKGS || exit 2
make -s -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
PY=/usr/bin/python3
BRINE=build/brine
out=demo-output
mkdir -p "$out"

echo "== 1. brine train: RandomForestClassifier(n_estimators=100, random_state=42) on iris"
$BRINE train RandomForestClassifier iris -p n_estimators=100 -p random_state=42 \
  --sklearn-version 1.2.1 -o "$out/rf_model.pkl"
$BRINE train RandomForestClassifier iris -p n_estimators=100 -p random_state=42 \
  --sklearn-version 1.2.1 --compress 3 -o "$out/rf_model.joblib"

echo "== 2. brine loads each file back and predicts the first three rows of iris"
cut -d, -f1-4 data/iris.csv | head -n 4 > "$out/first3.csv"
cat "$out/first3.csv"
for f in rf_model.pkl rf_model.joblib; do
  echo "-- $f: predict"
  $BRINE predict "$out/$f" "$out/first3.csv"
  echo "-- $f: predict_proba"
  $BRINE predict "$out/$f" "$out/first3.csv" --method predict_proba
done

echo "== 3. file sizes"
for f in rf_model.pkl rf_model.joblib; do
  printf '   %-16s %8d bytes\n' "$f" "$(stat -c %s "$out/$f")"
done

echo "== 4. Python loads brine's files: real sklearn estimators, the trees sklearn grows"
$PY - "$out" <<'PYEOF'
import sys, pickle, joblib, numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
out = sys.argv[1]
X, y = load_iris(return_X_y=True)
ref = RandomForestClassifier(n_estimators=100, random_state=42).fit(X, y)
fields = ("children_left", "children_right", "feature", "threshold", "impurity",
          "n_node_samples", "weighted_n_node_samples", "value")
for name in ("rf_model.pkl", "rf_model.joblib"):
    m = pickle.load(open(f"{out}/{name}", "rb")) if name.endswith(".pkl") else joblib.load(f"{out}/{name}")
    same = all(np.array_equal(getattr(a.tree_, f), getattr(b.tree_, f))
               for a, b in zip(m.estimators_, ref.estimators_) for f in fields)
    print(f"   {name}: {type(m).__name__}, get_params equal: {m.get_params() == ref.get_params()}, "
          f"100 trees identical to sklearn's: {same}, predict(X[:3]) = {m.predict(X[:3]).tolist()}")
    assert same and m.get_params() == ref.get_params()
PYEOF

echo "== 5. a hostile pickle is refused, naming the global and its byte offset"
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.' > "$out/evil.pkl"
$BRINE inspect "$out/evil.pkl" || echo "   (exit code $?)"
