#!/usr/bin/env bash
# demo.sh — the workflow end to end: a model saved by Python is inspected and
# converted by brine without Python, and Python loads brine's files back.
set -eu
cd "$(dirname "$0")"
. tools/deps.sh
brine_need $BRINE_BUILD_PKGS $BRINE_PY_PKGS || exit 2
make -s -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
PY=/usr/bin/python3
out=demo-output
mkdir -p "$out"

echo "== 1. Python saves a small model-like object and a fitted forest (joblib, compress=3)"
$PY - "$out" <<'PYEOF'
import sys, joblib, numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
out = sys.argv[1]
model = {"weights": np.linspace(-1, 1, 12).reshape(3, 4), "bias": np.zeros(3, dtype=np.float32),
         "classes": np.array(["setosa", "versicolor", "virginica"], dtype=object), "n_features_in_": 4}
joblib.dump(model, f"{out}/model.joblib", compress=3)
X, y = load_iris(return_X_y=True)
joblib.dump(RandomForestClassifier(n_estimators=10, random_state=42).fit(X, y), f"{out}/rf.joblib", compress=3)
print("   wrote", f"{out}/model.joblib", "and", f"{out}/rf.joblib")
PYEOF

echo "== 2. brine inspect (no Python involved)"
build/brine inspect "$out/model.joblib"
echo
build/brine inspect "$out/rf.joblib" --depth 3 --items 6

echo "== 3. brine convert: plain pickle protocol 2, and joblib with xz"
build/brine convert "$out/rf.joblib" "$out/rf.pkl" --protocol 2
build/brine convert "$out/rf.joblib" "$out/rf.joblib.xz"
ls -l "$out"

echo "== 4. Python loads brine's files: same predictions"
$PY - "$out" <<'PYEOF'
import sys, joblib, pickle, numpy as np
from sklearn.datasets import load_iris
out = sys.argv[1]
X, _ = load_iris(return_X_y=True)
ref = joblib.load(f"{out}/rf.joblib").predict_proba(X)
for name in ("rf.pkl", "rf.joblib.xz"):
    m = pickle.load(open(f"{out}/{name}", "rb")) if name.endswith(".pkl") else joblib.load(f"{out}/{name}")
    same = np.array_equal(m.predict_proba(X), ref)
    print(f"   {name}: {type(m).__name__}, predict_proba identical: {same}")
    assert same
PYEOF

echo "== 5. a hostile pickle is refused, naming the global and its byte offset"
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.' > "$out/evil.pkl"
build/brine inspect "$out/evil.pkl" || echo "   (exit code $?)"
