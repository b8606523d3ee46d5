"""``predict --model DIR --input FILE.csv|FILE.json [--output FILE]``: serve a deployed model.

Nothing is loaded before it is checked: DEPLOYED.json must list every file with the sha256
it had when it was deployed, and the weights must match signature.json; skops then loads
them with an explicit list of trusted types (no pickle). The input must match the model's
signature: the same columns, each of its dtype (numbers; bools as true/false, yes/no, 1/0;
categories as text; datetimes as text such as 2024-12-31), a gap (empty, NA, N/A, NaN,
null, None; JSON null) only where the signature allows one. A category the training data
did not have is predicted as unknown and counted in one ``warning:`` line on stderr.
Predictions (and, for a classifier, one probability column
per class) go to stdout as CSV, or to ``--output`` as CSV or JSON by its extension,
written whole or not at all (a hidden file beside it, renamed into place).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from .batch import cause_of, read_input, validate_input
from .errors import ProjectError, run_cli
from .model_io import load_model, read_signature, sha256_file

DEPLOYED_FILE = "DEPLOYED.json"
OUTPUT_FORMATS = (".csv", ".json")
PREDICTION_COLUMN = "prediction"


class OneLineParser(argparse.ArgumentParser):
    """A usage problem is one ``error: …`` line, like every other error."""

    def error(self, message: str) -> NoReturn:
        raise ProjectError(f"{self.prog}: {message}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(prog="predict", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="a folder made by deploy")
    parser.add_argument("--input", required=True, type=Path, help="rows to score (.csv, .json)")
    parser.add_argument("--output", type=Path, help="write here (.csv or .json), not stdout")
    return parser.parse_args(argv)


def predict(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.output is not None:
        check_output(args.output, args.model)
    check_deployment(args.model)
    model = load_model(args.model)
    signature = read_signature(args.model)
    frame = read_input(args.input)
    # CSV cells are text to parse; JSON values already carry their type, so "1.5" is no float.
    from_text = args.input.suffix.lower() == ".csv"
    features = validate_input(frame, signature, args.input, from_text)
    result = predictions(model, features, signature)
    write_output(result, args.output)
    warn_unseen(unseen_categories(features, signature), args.input)
    return 0


# --- the deployed folder ---------------------------------------------------------------------


def check_deployment(model_dir: Path) -> dict[str, Any]:
    """DEPLOYED.json exists and every file it lists still has its recorded sha256."""
    record_path = model_dir / DEPLOYED_FILE
    if record_path.exists() and not record_path.is_file():  # a FIFO would block the read
        raise ProjectError(f"{record_path}: not a file; deploy a model there (registry deploy)")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(
            f"{record_path}: not found; deploy a model there first (registry deploy --to DIR)"
        ) from None
    except OSError as exc:  # a folder, unreadable, --model is a file…
        raise ProjectError(f"{record_path}: cannot read it ({cause_of(exc)})") from None
    except ValueError:
        raise ProjectError(f"{record_path}: not valid JSON") from None
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict) or not files:
        raise ProjectError(f"{record_path}: files: missing, cannot check the deployment")
    for name, meta in sorted(files.items()):
        path = model_dir / name
        if not inside(path, model_dir):
            raise ProjectError(f"{record_path}: {name!r} is not a file of the deployed folder")
        if not path.is_file():
            raise ProjectError(f"{path}: missing from the deployment ({DEPLOYED_FILE})")
        try:
            actual = sha256_file(path)
        except OSError as exc:
            raise ProjectError(f"{path}: cannot read it ({cause_of(exc)})") from None
        if actual != meta.get("sha256"):
            raise ProjectError(
                f"{path}: sha256 {actual} does not match {DEPLOYED_FILE} {meta.get('sha256')}"
            )
    return record


# --- unseen categories -------------------------------------------------------------------


def unseen_categories(features: pd.DataFrame, signature: dict[str, Any]) -> dict[str, int]:
    """Per category input, how many rows hold a category the training data did not have."""
    counts = {}
    for column in signature.get("inputs") or []:
        known = column.get("categories")
        if known is None:
            continue
        values = features[column["name"]]
        unseen = int((values.notna() & ~values.isin(known)).sum())
        if unseen:
            counts[column["name"]] = unseen
    return counts


def warn_unseen(counts: dict[str, int], source: Path) -> None:
    """One stderr line; the rows are predicted anyway (an unseen category encodes as unknown)."""
    if counts:
        shown = ", ".join(
            f"column {name!r} ({count} row{'s' if count > 1 else ''})"
            for name, count in counts.items()
        )
        sys.stderr.write(f"warning: {source}: categories unseen in training: {shown}\n")


# --- output ----------------------------------------------------------------------------------


def predictions(model: Any, features: pd.DataFrame, signature: dict[str, Any]) -> pd.DataFrame:
    result = pd.DataFrame({PREDICTION_COLUMN: model.predict(features)})
    output = signature.get("output") or {}
    if output.get("kind") == "classification" and hasattr(model, "predict_proba"):
        probabilities = model.predict_proba(features)
        for index, label in enumerate(model.classes_):
            result[f"probability_{label}"] = probabilities[:, index]
    return result


def check_output(output: Path, model_dir: Path) -> None:
    """Refuse, before any work, an --output that cannot be written or would harm the model."""
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise ProjectError(f"--output {output}: use a .csv or .json file name")
    if output.is_dir():
        raise ProjectError(f"--output {output}: is a folder, not a file name")
    if inside(output, model_dir):
        raise ProjectError(
            f"--output {output}: inside the deployed model {model_dir}; write it elsewhere"
        )
    above = output.parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise ProjectError(f"--output {output}: {above} is a file, not a folder")


def write_output(result: pd.DataFrame, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(result.to_csv(index=False))
        return
    if output.suffix.lower() == ".json":
        records = json.loads(result.to_json(orient="records", double_precision=15))
        text = json.dumps(records, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        result.to_csv(buffer, index=False)
        text = buffer.getvalue()
    try:
        write_atomically(output, text.encode("utf-8"))
    except OSError as exc:
        raise ProjectError(f"--output {output}: cannot write it ({cause_of(exc)})") from None


def write_atomically(path: Path, data: bytes) -> None:
    """A uniquely named hidden file beside path, renamed into place: a reader never sees
    half a file, and a failure (disk full, read-only folder) leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    # O_EXCL: never another run's partial file; 0o666: the umask applies, as for any file.
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(partial, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(partial)
        raise


def inside(path: Path, folder: Path) -> bool:
    """path is folder or lies in it, links resolved (``--output model/../model/x.json``)."""
    real = path.resolve()
    return real == folder.resolve() or folder.resolve() in real.parents


def main(argv: list[str] | None = None) -> None:
    run_cli(lambda: predict(argv))


if __name__ == "__main__":
    main()
