#!/usr/bin/env bash
# `make demo`: bake a project with the defaults into a scratch folder and run the whole
# lifecycle on the embedded default (a local DVC remote): train, gate, register, promote,
# push, retrain (a worse experiment recorded in `dvc exp show` and refused by `registry
# check`, one within max_regression promoted), roll back, deploy from a fresh clone, predict, a tampered
# file refused, the registry table, a drift check (a normal batch passes, a shifted one is
# flagged) and the HTML report.
set -euo pipefail

DEMO_DIR=${1:-"$PWD/.demo"}
TEMPLATE_DIR=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=$(command -v python)

# Each command is echoed as it can be pasted into a shell: words that need quotes get them.
quoted() {
    local word words=()
    for word in "$@"; do
        if [[ $word =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then
            words+=("$word")
        else
            words+=("'${word//\'/\'\\\'\'}'")
        fi
    done
    printf '%s' "${words[*]}"
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
echoed() { printf '\033[2m$ %s\033[0m\n' "$(quoted "$@")"; }
show() { echoed "$@"; "$@"; }
refused() { echoed "$@"; if "$@"; then echo "demo: expected a refusal" >&2; exit 1; fi; echo "(refused, as it should be)"; }
drifted() {
    local status=0
    echoed "$@"
    "$@" || status=$?
    if [ "$status" -ne 1 ]; then echo "demo: expected drift (exit 1), got exit $status" >&2; exit 1; fi
    echo "(drift flagged: exit 1)"
}

# Keep the demo to itself: a private git identity and DVC config, no analytics, no update checks.
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR/home/dvc"
printf '[core]\n    analytics = false\n    check_update = false\n' >"$DEMO_DIR/home/dvc/config"
printf '[user]\n\tname = Demo Engineer\n\temail = demo@example.invalid\n[init]\n\tdefaultBranch = main\n' \
    >"$DEMO_DIR/home/gitconfig"
export GIT_CONFIG_GLOBAL="$DEMO_DIR/home/gitconfig" GIT_CONFIG_NOSYSTEM=1
export DVC_GLOBAL_CONFIG_DIR="$DEMO_DIR/home/dvc" DVC_NO_ANALYTICS=1 ITERATIVE_DO_NOT_TRACK=1

step "Bake a project with the defaults"
show cookiecutter --no-input -o "$DEMO_DIR" "$TEMPLATE_DIR"
PROJECT="$DEMO_DIR/breast-cancer-classifier"
echoed cd "$PROJECT"
cd "$PROJECT"

step "Install it into the demo's environment (its dependencies are already there)"
show python -m pip install --quiet --no-deps --no-build-isolation -e ./toolkit -e .

step "Publish the repository to a git remote (a bare repository beside it)"
show git init -q --bare "$DEMO_DIR/origin.git"
show git remote add origin "$DEMO_DIR/origin.git"
show git push -q -u origin main

step "Train: prepare -> train -> evaluate -> gate"
show dvc repro
show dvc metrics show
show git add -A
show git commit -qm "Train logistic regression, C=1"

step "Push weights and commit, register v1.0.0 and promote it to production"
show dvc push
show git push -q origin main
show registry register --push
show registry promote v1.0.0 --stage production --reason "first model" --push

step "A worse candidate (C=0.001), as an experiment: the gate records the rejection, the registry enforces it"
show dvc exp run -S train.hyperparams.C=0.001 -n worse
show dvc exp show --no-pager --drop '.*' --keep 'Experiment|train.hyperparams.C|passed|candidate|baseline'
refused registry check
show git checkout -q -- .
show dvc checkout -q

step "A retrained candidate (C=10), within max_regression of production: the gate lets it through"
show sed -i 's/^    C: 1.0$/    C: 10.0/' params.yaml
show dvc repro
show git add -A
show git commit -qm "Retrain with C=10"
show dvc push
show git push -q origin main
show registry register --bump minor --push
show registry promote v1.1.0 --stage production --reason "retrained, C=10" --push

step "Roll production back to the previous version: a new tag, history kept"
show registry rollback --stage production --reason "demo: roll back" --push
show registry history

step "Deploy production from a fresh clone into a serving folder, verified by sha256"
SERVING="$DEMO_DIR/serving"
show registry deploy --stage production --to "$SERVING" --repo "$DEMO_DIR/origin.git"
show cat "$SERVING/DEPLOYED.json"

step "Predict on five rows of the raw data, target left out (the deployed signature names the columns)"
SAMPLE_PY=$(cat <<'EOF'
import json
import sys

import pandas as pd

signature = json.load(open(f"{sys.argv[1]}/signature.json"))
columns = [column["name"] for column in signature["inputs"]]
rows = pd.read_csv("data/raw/dataset.csv", usecols=columns, dtype=str, keep_default_na=False)
rows[columns].head(5).to_csv("sample.csv", index=False)
EOF
)
printf '\033[2m$ python - %s <<'"'EOF'"'\n%s\nEOF\033[0m\n' "$(quoted "$SERVING")" "$SAMPLE_PY"
python - "$SERVING" <<<"$SAMPLE_PY"
show predict --model "$SERVING" --input sample.csv

step "A tampered weights file is refused"
TAMPERED="$DEMO_DIR/serving-tampered"
show cp -r "$SERVING" "$TAMPERED"
printf '\033[2m$ printf x >>%s\033[0m\n' "$(quoted "$TAMPERED/model.skops")"
printf 'x' >>"$TAMPERED/model.skops"
refused predict --model "$TAMPERED" --input sample.csv
echo "# (the demo, behind your back: corrupt v1.0.0's weights in the DVC remote)"
python - "$DEMO_DIR" <<'EOF'
# Corrupt v1.0.0's weights in the DVC remote itself (found by their sha256); deploy must refuse.
import hashlib
import json
import subprocess
import sys
from pathlib import Path

demo = Path(sys.argv[1])
shown = subprocess.run(["registry", "show", "v1.0.0", "--json"], check=True, capture_output=True)
sha256 = json.loads(shown.stdout)["manifest"]["artifact"]["files"]["model.skops"]["sha256"]
for obj in (demo / "breast-cancer-classifier-dvc-remote").rglob("*"):
    if obj.is_file() and hashlib.sha256(obj.read_bytes()).hexdigest() == sha256:
        obj.chmod(0o644)
        obj.write_bytes(obj.read_bytes() + b"tampered")
        print(f"tampered with {obj.relative_to(demo)}")
EOF
refused registry deploy --version v1.0.0 --to "$DEMO_DIR/serving-2" --repo "$DEMO_DIR/origin.git"

step "The registry"
show registry list

step "Drift: a batch like the training data passes, a batch with one feature moved is flagged"
DRIFT_PY=$(cat <<'EOF'
import json
import sys

import pandas as pd

signature = json.load(open(f"{sys.argv[1]}/signature.json"))
columns = [column["name"] for column in signature["inputs"]]
rows = pd.read_csv("data/raw/dataset.csv", usecols=columns)[columns].sample(300, random_state=0)
rows.to_csv("live.csv", index=False)
rows.assign(**{columns[0]: rows[columns[0]] * 1.5}).to_csv("shifted.csv", index=False)
print(f"live.csv: 300 raw rows; shifted.csv: the same rows with {columns[0]!r} times 1.5")
EOF
)
printf '\033[2m$ python - %s <<'"'EOF'"'\n%s\nEOF\033[0m\n' "$(quoted "$SERVING")" "$DRIFT_PY"
python - "$SERVING" <<<"$DRIFT_PY"
show registry drift production --input live.csv
drifted registry drift production --input shifted.csv

step "The registry as a web page"
show registry report --out "$DEMO_DIR/registry-report"
printf 'Open file://%s/registry-report/index.html in a browser\n' "$DEMO_DIR"
printf '\nDemo project: %s\n' "$PROJECT"
