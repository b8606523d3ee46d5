"""Stage gate (dvc.yaml runs ``python -m <package>.gate_stage``): judge the trained model
against the version in production now, on the hold-out rows neither trained on and beside
the trivial model, and record the verdict in metrics/gate.json and reports/gate.json. The
thresholds are params.yaml's ``gate`` section; the registry (check, register, promote)
enforces the verdict. The judging is the toolkit's: weighbridge/registry/gate_stage.py."""

from weighbridge.errors import run_cli
from weighbridge.registry.gate_stage import main

if __name__ == "__main__":
    run_cli(main)
