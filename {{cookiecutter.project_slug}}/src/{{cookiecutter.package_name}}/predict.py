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
import math
import os
import secrets
import sys
from contextlib import suppress
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
import pandas as pd

from .errors import ProjectError, run_cli
from .model_io import load_model, read_signature, sha256_file
from .reading import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, date_format

DEPLOYED_FILE = "DEPLOYED.json"
OUTPUT_FORMATS = (".csv", ".json")
PREDICTION_COLUMN = "prediction"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


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


# --- input -----------------------------------------------------------------------------------


def read_input(path: Path) -> pd.DataFrame:
    """The input as given (CSV: text cells; JSON: native values), not yet validated."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ProjectError(f"--input {path}: use a .csv or .json file")
    try:
        with path.open("rb") as handle:  # missing, a folder, unreadable: all fail here
            if suffix == ".csv":
                return read_csv_text(path, handle)
            return read_json_records(path, handle)
    except FileNotFoundError:
        raise ProjectError(f"--input {path}: file not found") from None
    except OSError as exc:  # opening it, or a disk error while reading it
        raise ProjectError(f"--input {path}: cannot read it ({cause_of(exc)})") from None


def read_csv_text(path: Path, handle: BinaryIO) -> pd.DataFrame:
    try:
        # Text first, so that garbage is reported, never silently coerced to NaN.
        return pd.read_csv(handle, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ProjectError(f"--input {path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ProjectError(f"--input {path}: not a valid CSV file ({one_line(exc)})") from None


def read_json_records(path: Path, handle: BinaryIO) -> pd.DataFrame:
    """A list of records ``[{"col": value, …}, …]`` or columns ``{"col": [values…], …}``."""
    try:
        payload = json.loads(handle.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProjectError(f"--input {path}: not valid JSON ({one_line(exc)})") from None
    if isinstance(payload, list) and all(isinstance(row, dict) for row in payload):
        return pd.DataFrame.from_records(payload, columns=_keys_in_order(payload))
    if isinstance(payload, dict) and all(isinstance(col, list) for col in payload.values()):
        if len({len(col) for col in payload.values()}) > 1:
            raise ProjectError(f"--input {path}: columns have different lengths")
        return pd.DataFrame(
            {name: pd.Series(values, dtype=object) for name, values in payload.items()}
        )
    raise ProjectError(
        f"--input {path}: expected a list of records or an object of columns (lists)"
    )


def _keys_in_order(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(key for record in records for key in record))


def validate_input(
    frame: pd.DataFrame, signature: dict[str, Any], source: Path, from_text: bool = True
) -> pd.DataFrame:
    """The signature's columns, in its order and dtypes; one error line naming the column."""
    inputs = signature.get("inputs") or []
    expected = [column["name"] for column in inputs]
    for name in expected:
        if name not in frame.columns:
            raise ProjectError(f"{source}: column {name!r}: missing (the model needs it)")
    for name in frame.columns:
        if name not in expected:
            raise ProjectError(f"{source}: column {name!r}: not an input of the model")
    if frame.empty:
        raise ProjectError(f"{source}: no rows to predict")
    columns = {col["name"]: typed(frame[col["name"]], col, source, from_text) for col in inputs}
    return pd.DataFrame(columns)


def typed(values: pd.Series, column: dict[str, Any], source: Path, from_text: bool) -> pd.Series:
    """One input column as the model's pipeline reads it (see reading.py): numbers, bools as
    0.0/1.0, categories as text, datetimes; a gap as NaN/NaT where the signature allows it."""
    name, dtype = column["name"], column["dtype"]
    where = f"{source}: column {name!r}"
    missing = values.map(is_missing).astype(bool)
    if missing.any() and not column.get("nullable", False):
        raise ProjectError(
            f"{where}: missing value in row {row_of(missing)} (the model accepts no gaps here)"
        )
    convert = CONVERTERS.get(dtype)
    if convert is None:
        raise ProjectError(f"{where}: dtype {dtype!r} of the model's signature is unknown here")
    return convert(values, missing, dtype, where, from_text)


def refuse_bad(values: pd.Series, bad: pd.Series, expected: str, where: str) -> None:
    if bad.any():
        raise ProjectError(
            f"{where}: expected {expected}, got {values[bad].iloc[0]!r} in row {row_of(bad)}"
        )


def numbers(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    parsed = values.map(lambda v: as_number(v, dtype, from_text))
    refuse_bad(values, parsed.isna() & ~missing, dtype, where)
    if dtype == "int64":
        check_int64_range(values, parsed, missing, where)
    return parsed.astype("float64" if dtype == "float64" or missing.any() else "int64")


def booleans(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    parsed = values.map(as_bool)
    refuse_bad(values, parsed.isna() & ~missing, "bool (true/false, yes/no, 1/0)", where)
    return parsed.astype("float64")


def categories(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    parsed = values.map(as_category)
    refuse_bad(values, parsed.isna() & ~missing, "a category (text)", where)
    return parsed.where(~missing, np.nan).astype(object)


def datetimes(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    text = values.map(lambda v: v.strip() if isinstance(v, str) else None)
    refuse_bad(values, text.isna() & ~missing, "a datetime (text such as 2024-12-31)", where)
    _, parsed = date_format(text.where(~missing), missing)
    refuse_bad(values, parsed.isna() & ~missing, "a datetime such as 2024-12-31", where)
    try:
        return parsed.astype("datetime64[ns]")
    except (OverflowError, ValueError):  # years before 1677 or after 2262
        raise ProjectError(f"{where}: a date out of the supported range") from None


CONVERTERS = {
    "int64": numbers,
    "float64": numbers,
    "bool": booleans,
    "category": categories,
    "string": categories,  # signatures written before dtype category
    "datetime": datetimes,
}


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip() in MISSING_TOKENS


def as_bool(value: Any) -> float | None:
    """1.0 or 0.0 for a JSON boolean, a JSON 0/1 or a token (true/yes/1, false/no/0)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        token = value.strip().lower()
        return 1.0 if token in TRUE_TOKENS else 0.0 if token in FALSE_TOKENS else None
    if isinstance(value, (int, float)) and value in (0, 1):
        return float(value)
    return None


def as_category(value: Any) -> str | None:
    """Text as the training data read it (stripped); a JSON integer as its digits."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_number(value: Any, dtype: str, from_text: bool) -> float | int | None:
    """The value as a finite number of ``dtype`` (an exact int for int64), or None if not one."""
    if isinstance(value, bool) or is_missing(value):
        return None
    if isinstance(value, str) and from_text:
        try:
            # Decimal, not float: float loses the last digits of large integers.
            value = Decimal(value.strip())
        except InvalidOperation:
            return None
    if not isinstance(value, (int, float, Decimal)) or not is_finite(value):
        return None
    if dtype == "int64":
        return int(value) if value == int(value) else None
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond float's range
        return None
    return number if math.isfinite(number) else None


def is_finite(value: int | float | Decimal) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) or math.isfinite(value)


def check_int64_range(
    values: pd.Series, numbers: pd.Series, missing: pd.Series, where: str
) -> None:
    """astype("int64") silently wraps values beyond its range: refuse them instead."""
    in_range = numbers.map(lambda n: INT64_MIN <= n <= INT64_MAX if n is not None else True)
    out_of_range = ~missing & ~in_range.astype(bool)
    if out_of_range.any():
        raise ProjectError(
            f"{where}: value {values[out_of_range].iloc[0]} out of int64 range "
            f"(row {row_of(out_of_range)})"
        )


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


def row_of(mask: pd.Series) -> int:
    return int(mask.to_numpy().argmax()) + 1


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


def cause_of(exc: OSError) -> str:
    return exc.strerror or one_line(exc)


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    run_cli(lambda: predict(argv))


if __name__ == "__main__":
    main()
