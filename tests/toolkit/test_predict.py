"""``predict`` on a real skops model saved with the project's model_io, deployed by hand.

The model is a small logistic regression on two features (one float, one int), written
with ``save_model`` exactly as the train stage writes it, plus the DEPLOYED.json that
``registry deploy`` writes. Every bad input must stop with one line naming the column.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import MODEL_NAME, PACKAGE, PYTHONPATH
from sklearn.linear_model import LogisticRegression
from weighbridge.model_io import save_model, sha256_file
from weighbridge.predict import main
from weighbridge.schema import Column, Schema

SCHEMA = Schema(
    task="classification",
    columns=(
        Column("size", "float64"),
        Column("count", "int64"),
        Column("label", "int64", "target"),
    ),
)
ROWS = [{"size": 1.5, "count": 3}, {"size": 9.0, "count": 1}, {"size": 0.2, "count": 7}]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"size": rng.normal(size=60), "count": rng.integers(0, 9, 60)})
    labels = (features["size"] > 0).astype("int64")
    model = LogisticRegression().fit(features, labels)
    return deployed_by_hand(model, tmp_path_factory.mktemp("deployed") / "model", SCHEMA)


def deployed_by_hand(model, folder: Path, schema: Schema) -> Path:
    """Saved as train saves it, with the DEPLOYED.json that registry deploy writes."""
    save_model(model, folder, schema, MODEL_NAME)
    files = {p.name: {"sha256": sha256_file(p)} for p in sorted(folder.iterdir())}
    record = {"model": MODEL_NAME, "version": "v1.0.0", "files": files}
    (folder / "DEPLOYED.json").write_text(json.dumps(record))
    return folder


def predict(capsys, *args: str):
    """Run predict in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def write_csv(path: Path, rows) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def write_json(path: Path, payload) -> Path:
    path.write_text(json.dumps(payload))
    return path


def test_csv_in_csv_out_with_class_probabilities(capsys, model_dir, tmp_path):
    code, out, err = predict(
        capsys, "--model", str(model_dir), "--input", str(write_csv(tmp_path / "in.csv", ROWS))
    )
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    assert list(result.columns) == ["prediction", "probability_0", "probability_1"]
    assert len(result) == 3
    assert np.allclose(result["probability_0"] + result["probability_1"], 1.0)
    assert result["prediction"].tolist()[1] == 1  # size 9.0 is far on the positive side


def test_json_in_json_out(capsys, model_dir, tmp_path):
    source = write_json(tmp_path / "in.json", ROWS)
    output = tmp_path / "out" / "predictions.json"
    code, out, err = predict(
        capsys, "--model", str(model_dir), "--input", str(source), "--output", str(output)
    )
    assert (code, out) == (0, ""), err
    records = json.loads(output.read_text())
    assert len(records) == 3 and set(records[0]) == {"prediction", "probability_0", "probability_1"}
    assert not list(output.parent.glob(".*partial"))


def test_json_columns_layout_and_csv_output(capsys, model_dir, tmp_path):
    columns = {"size": [1.5, 9.0], "count": [3, 1]}
    output = tmp_path / "predictions.csv"
    code, _, err = predict(
        capsys,
        "--model",
        str(model_dir),
        "--input",
        str(write_json(tmp_path / "in.json", columns)),
        "--output",
        str(output),
    )
    assert code == 0, err
    assert len(pd.read_csv(output)) == 2


@pytest.mark.parametrize(
    ("name", "rows", "expected"),
    [
        ("missing.csv", [{"size": 1.0}], "column 'count': missing"),
        ("extra.csv", [{**ROWS[0], "colour": "red"}], "column 'colour': not an input"),
        ("text.csv", [{"size": "big", "count": 1}], "column 'size': expected float64, got 'big'"),
        ("fraction.csv", [{"size": 1.0, "count": 2.5}], "column 'count': expected int64"),
        (
            "nan.csv",
            [ROWS[0], {"size": None, "count": 1}],
            "column 'size': missing value in row 2 (the model accepts no gaps here)",
        ),
        ("missing.json", [{"size": 1.0}], "column 'count': missing"),
        ("extra.json", [{**ROWS[0], "colour": "red"}], "column 'colour': not an input"),
        (
            "string.json",
            [{"size": "1.5", "count": 1}],
            "column 'size': expected float64, got '1.5'",
        ),
        ("bool.json", [{"size": 1.5, "count": True}], "column 'count': expected int64"),
        (
            "null.json",
            [ROWS[0], {"size": 1.0, "count": None}],
            "column 'count': missing value in row 2",
        ),
        (
            "huge.csv",
            [ROWS[0], {"size": 1.0, "count": "99999999999999999999999"}],
            "column 'count': value 99999999999999999999999 out of int64 range (row 2)",
        ),
        (
            "below.csv",
            [{"size": 1.0, "count": "-9223372036854775809"}],
            "column 'count': value -9223372036854775809 out of int64 range (row 1)",
        ),
        (
            "huge.json",
            [ROWS[0], ROWS[1], {"size": 1.0, "count": 99999999999999999999999}],
            "column 'count': value 99999999999999999999999 out of int64 range (row 3)",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_column(capsys, model_dir, tmp_path, name, rows, expected):
    path = tmp_path / name
    (write_csv if name.endswith(".csv") else write_json)(path, rows)
    output = tmp_path / "out.csv"
    code, out, err = predict(
        capsys, "--model", str(model_dir), "--input", str(path), "--output", str(output)
    )
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert not output.exists()


@pytest.mark.parametrize("name", ["bounds.csv", "bounds.json"])
def test_int64_bounds_are_accepted(capsys, model_dir, tmp_path, name):
    rows = [{"size": 1.0, "count": 2**63 - 1}, {"size": 1.0, "count": -(2**63)}]
    path = tmp_path / name
    (write_csv if name.endswith(".csv") else write_json)(path, rows)
    code, out, err = predict(capsys, "--model", str(model_dir), "--input", str(path))
    assert code == 0, err
    assert len(pd.read_csv(io.StringIO(out))) == 2


def test_tampered_weights_are_refused_before_loading(capsys, model_dir, tmp_path):
    copy = tmp_path / "model"
    copy.mkdir()
    for path in model_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "model.skops").write_bytes((copy / "model.skops").read_bytes()[:-10] + b"0" * 10)
    code, _, err = predict(
        capsys, "--model", str(copy), "--input", str(write_csv(tmp_path / "in.csv", ROWS))
    )
    assert code == 1 and "model.skops: sha256" in err and "DEPLOYED.json" in err


def test_a_folder_that_was_not_deployed_is_refused(capsys, model_dir, tmp_path):
    copy = tmp_path / "model"
    copy.mkdir()
    for name in ("model.skops", "signature.json"):
        (copy / name).write_bytes((model_dir / name).read_bytes())
    code, _, err = predict(
        capsys, "--model", str(copy), "--input", str(write_csv(tmp_path / "in.csv", ROWS))
    )
    assert code == 1 and "DEPLOYED.json: not found" in err


@pytest.mark.parametrize("output", ["out.txt", "out.parquet"])
def test_unknown_output_format(capsys, model_dir, tmp_path, output):
    code, _, err = predict(
        capsys,
        "--model",
        str(model_dir),
        "--input",
        str(write_csv(tmp_path / "in.csv", ROWS)),
        "--output",
        str(tmp_path / output),
    )
    assert code == 1 and "--output" in err and ".csv or .json" in err


def test_runs_as_a_module(model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ROWS)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            f"{PACKAGE}.predict",
            "--model",
            str(model_dir),
            "--input",
            str(source),
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": PYTHONPATH, "PATH": str(Path(sys.executable).parent)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "prediction,probability_0,probability_1"
    assert len(result.stdout.splitlines()) == 4


# --- files that cannot be read or written: one line naming the file and the cause ----------


def one_error_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


def folder_state(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): p.is_dir() or p.read_bytes() for p in folder.rglob("*")
    }


@contextlib.contextmanager
def read_only(folder: Path):
    """Nothing can be created in folder, root included (chattr +i; chmod stops only others)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no folder root cannot write into")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i is refused here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_input_that_cannot_be_read_is_one_line(capsys, model_dir, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    cases = {
        tmp_path / "missing.csv": "file not found",
        tmp_path / "folder.csv": "cannot read it (Is a directory)",
    }
    for path, cause in cases.items():
        code, out, err = predict(capsys, "--model", str(model_dir), "--input", str(path))
        assert code == 1 and out == ""
        assert one_error_line(err) == f"error: --input {path}: {cause}"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: no unreadable input")
def test_unreadable_input_is_one_line(capsys, model_dir, tmp_path):
    path = write_csv(tmp_path / "secret.csv", ROWS)
    path.chmod(0)
    code, _, err = predict(capsys, "--model", str(model_dir), "--input", str(path))
    assert code == 1
    assert one_error_line(err) == f"error: --input {path}: cannot read it (Permission denied)"


def test_output_that_cannot_be_written_is_one_line_and_leaves_nothing(capsys, model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ROWS)
    (tmp_path / "afile").write_text("a file\n")
    (tmp_path / "folder.csv").mkdir()
    cases = {
        tmp_path / "afile" / "out.csv": f"{tmp_path / 'afile'} is a file, not a folder",
        tmp_path / "afile" / "sub" / "out.json": f"{tmp_path / 'afile'} is a file, not a folder",
        tmp_path / "folder.csv": "is a folder, not a file name",
        model_dir / "signature.json": f"inside the deployed model {model_dir}; write it elsewhere",
        model_dir / ".." / model_dir.name / "out.csv": f"inside the deployed model {model_dir}; "
        "write it elsewhere",
    }
    deployed, before = folder_state(model_dir), folder_state(tmp_path)
    for output, cause in cases.items():
        code, out, err = predict(
            capsys, "--model", str(model_dir), "--input", str(source), "--output", str(output)
        )
        assert code == 1 and out == ""
        assert one_error_line(err) == f"error: --output {output}: {cause}"
    assert folder_state(tmp_path) == before
    assert folder_state(model_dir) == deployed


def test_output_into_a_read_only_folder_is_one_line_and_leaves_nothing(capsys, model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ROWS)
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):
        for output in (locked / "out.csv", locked / "new" / "out.json"):
            code, _, err = predict(
                capsys, "--model", str(model_dir), "--input", str(source), "--output", str(output)
            )
            assert code == 1
            cause = r"cannot write it \((Operation not permitted|Permission denied)\)"
            assert re.fullmatch(
                rf"error: --output {re.escape(str(output))}: {cause}", one_error_line(err)
            )
        assert list(locked.iterdir()) == []


def test_output_is_written_whole_or_not_at_all(tmp_path):
    """A rename that fails (here: a folder took the name meanwhile) leaves no partial file."""
    from weighbridge.predict import write_atomically

    (tmp_path / "out.csv").mkdir()
    (tmp_path / "out.csv" / "keep").write_text("theirs\n")
    with pytest.raises(OSError):
        write_atomically(tmp_path / "out.csv", b"prediction\n1\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    write_atomically(tmp_path / "new" / "out.csv", b"prediction\n1\n")
    assert (tmp_path / "new" / "out.csv").read_bytes() == b"prediction\n1\n"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["out.csv"]


def test_a_record_that_lists_files_outside_the_folder_is_refused(capsys, model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    record = json.loads((copy / "DEPLOYED.json").read_text())
    record["files"]["../in.csv"] = {"sha256": "0" * 64}
    (copy / "DEPLOYED.json").write_text(json.dumps(record))
    source = write_csv(tmp_path / "in.csv", ROWS)
    code, _, err = predict(capsys, "--model", str(copy), "--input", str(source))
    assert code == 1
    expected = f"error: {copy / 'DEPLOYED.json'}: '../in.csv' is not a file of the deployed folder"
    assert one_error_line(err) == expected


def test_a_record_that_is_no_file_is_refused_without_waiting(capsys, model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / "DEPLOYED.json").unlink()
    os.mkfifo(copy / "DEPLOYED.json")  # reading it would wait for a writer forever
    source = write_csv(tmp_path / "in.csv", ROWS)
    code, _, err = predict(capsys, "--model", str(copy), "--input", str(source))
    assert code == 1
    expected = "not a file; deploy a model there (registry deploy)"
    assert one_error_line(err) == f"error: {copy / 'DEPLOYED.json'}: {expected}"


def test_a_model_path_that_is_a_file_is_one_line(capsys, tmp_path):
    source = write_csv(tmp_path / "in.csv", ROWS)
    code, _, err = predict(capsys, "--model", str(source), "--input", str(source))
    assert code == 1
    expected = f"error: {source / 'DEPLOYED.json'}: cannot read it (Not a directory)"
    assert one_error_line(err) == expected


# --- a model of mixed columns: gaps, categories (unseen ones too), bools and dates ----------


@pytest.fixture(scope="module")
def mixed_model_dir(tmp_path_factory) -> Path:
    from mixed_data import mixed_frame, mixed_schema
    from sample_project.estimators import build

    schema, frame = mixed_schema("classification"), mixed_frame()
    model = build(schema, "logistic_regression", {}, seed=7)
    model.fit(frame[schema.features], frame[schema.target])
    return deployed_by_hand(model, tmp_path_factory.mktemp("mixed") / "model", schema)


MIXED_ROWS = [
    {"island": "Dream", "bill_length": 39.1, "flipper_length": 181, "male": "yes",
     "observed": "2007-11-11"},
    {"island": "Atlantis", "bill_length": 46.5, "flipper_length": "", "male": "NA",
     "observed": ""},
    {"island": "", "bill_length": 50.0, "flipper_length": 230, "male": "false",
     "observed": "2009-06-01 10:30"},
    {"island": "Mars", "bill_length": 41.0, "flipper_length": "N/A", "male": "1",
     "observed": "null"},
]  # fmt: skip


def test_gaps_and_unseen_categories_are_predicted_and_counted(capsys, mixed_model_dir, tmp_path):
    source = write_csv(tmp_path / "penguins.csv", MIXED_ROWS)
    code, out, err = predict(capsys, "--model", str(mixed_model_dir), "--input", str(source))
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    assert list(result.columns) == ["prediction", "probability_Adelie", "probability_Gentoo"]
    assert len(result) == 4 and set(result["prediction"]) <= {"Adelie", "Gentoo"}
    assert err == f"warning: {source}: categories unseen in training: column 'island' (2 rows)\n"


def test_json_nulls_and_booleans_are_accepted(capsys, mixed_model_dir, tmp_path):
    rows = [
        {"island": "Biscoe", "bill_length": 39.1, "flipper_length": None, "male": True,
         "observed": None},
        {"island": None, "bill_length": 46.5, "flipper_length": 200, "male": 0,
         "observed": "2008-02-03T12:00:00Z"},
    ]  # fmt: skip
    source = write_json(tmp_path / "penguins.json", rows)
    output = tmp_path / "out.json"
    code, out, err = predict(
        capsys, "--model", str(mixed_model_dir), "--input", str(source), "--output", str(output)
    )
    assert (code, out, err) == (0, "", "")  # every category known: no warning
    assert len(json.loads(output.read_text())) == 2


def test_gaps_and_bools_reach_the_model_as_it_was_trained(mixed_model_dir, tmp_path):
    """The typed input is what the training data looked like: NaN/NaT gaps, bools 0/1."""
    from weighbridge.model_io import read_signature
    from weighbridge.predict import read_input, validate_input

    source = write_csv(tmp_path / "in.csv", MIXED_ROWS)
    typed = validate_input(read_input(source), read_signature(mixed_model_dir), source)
    assert typed["male"].tolist()[:1] + typed["male"].tolist()[2:] == [1.0, 0.0, 1.0]
    assert typed["male"].isna().tolist() == [False, True, False, False]
    assert typed["flipper_length"].dtype == "float64" and typed["flipper_length"].isna().sum() == 2
    assert typed["island"].tolist()[:2] == ["Dream", "Atlantis"] and pd.isna(typed["island"][2])
    assert typed["observed"].dtype == "datetime64[ns]"
    assert typed["observed"][2] == pd.Timestamp("2009-06-01 10:30")
    assert typed["observed"].isna().tolist() == [False, True, False, True]


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("missing.csv", {"observed": None}, "column 'observed': missing (the model needs it)"),
        ("text.csv", {"bill_length": "long"}, "column 'bill_length': expected float64, got 'long'"),
        (
            "gap.csv",
            {"bill_length": ""},
            "column 'bill_length': missing value in row 2 (the model accepts no gaps here)",
        ),
        ("gap.json", {"bill_length": None}, "column 'bill_length': missing value in row 2"),
        ("bool.csv", {"male": "maybe"}, "column 'male': expected bool (true/false, yes/no, 1/0), "
         "got 'maybe' in row 2"),
        ("bool.json", {"male": 2}, "column 'male': expected bool"),
        ("date.csv", {"observed": "yesterday"}, "column 'observed': expected a datetime such as "
         "2024-12-31, got 'yesterday' in row 2"),
        ("date.json", {"observed": 20240101}, "column 'observed': expected a datetime"),
        ("category.json", {"island": 1.5}, "column 'island': expected a category (text), got 1.5"),
        ("int.csv", {"flipper_length": "181.5"}, "column 'flipper_length': expected int64"),
    ],
)  # fmt: skip
def test_mixed_bad_input_is_one_line_naming_the_column(
    capsys, mixed_model_dir, tmp_path, name, change, expected
):
    good = {**MIXED_ROWS[0], "flipper_length": 181}
    rows = [good, {**good, **change}]
    if name == "missing.csv":
        rows = [{key: value for key, value in row.items() if key != "observed"} for row in rows]
    path = tmp_path / name
    (write_csv if name.endswith(".csv") else write_json)(path, rows)
    output = tmp_path / "out.csv"
    code, out, err = predict(
        capsys, "--model", str(mixed_model_dir), "--input", str(path), "--output", str(output)
    )
    assert (code, out) == (1, "")
    assert one_error_line(err).startswith(f"error: {path}: ")
    assert expected in err
    assert not output.exists()
