"""Invalid variables stop in pre_gen_project with one line naming the variable; nothing is left."""

from __future__ import annotations

import pytest

INVALID = [
    pytest.param({"project_slug": "My Project"}, "project_slug", id="slug-with-space"),
    pytest.param({"project_slug": "1-model"}, "project_slug", id="slug-starts-with-digit"),
    pytest.param({"package_name": "my-package"}, "package_name", id="package-hyphen"),
    pytest.param({"package_name": "class"}, "package_name", id="package-keyword"),
    pytest.param({"model_name": "-classifier"}, "model_name", id="model-leading-hyphen"),
    pytest.param({"model_name": "my model"}, "model_name", id="model-space"),
    pytest.param({"model_name": "model@v1"}, "model_name", id="model-at-sign"),
    pytest.param({"model_name": "model#prod"}, "model_name", id="model-hash"),
    pytest.param({"dataset": "csv"}, "csv_path", id="csv-without-path"),
    pytest.param(
        {"dataset": "csv", "csv_path": "/nonexistent/data.csv", "target_column": "y"},
        "csv_path",
        id="csv-missing-file",
    ),
    pytest.param(
        {"storage": "s3", "s3_bucket": "Invalid_Bucket"}, "s3_bucket", id="s3-bucket-uppercase"
    ),
    pytest.param({"storage": "s3", "s3_bucket": "ab"}, "s3_bucket", id="s3-bucket-too-short"),
    pytest.param(
        {"storage": "s3", "s3_endpoint_url": "127.0.0.1:9000"},
        "s3_endpoint_url",
        id="s3-endpoint-without-scheme",
    ),
    pytest.param({"author_email": "not-an-email"}, "author_email", id="email"),
    # Issue 8: what used to bake a broken project or fail later with a traceback.
    pytest.param({"project_slug": "a" * 51}, "project_slug", id="slug-too-long"),
    pytest.param({"project_slug": "model\n"}, "project_slug", id="slug-trailing-newline"),
    pytest.param({"project_name": "a\x85b"}, "project_name", id="name-c1-control"),
    pytest.param({"project_name": "a\udcffb"}, "project_name", id="name-undecodable-bytes"),
    pytest.param(
        {"dataset": "csv", "csv_path": "/nonexistent/a\nb.csv", "target_column": "y"},
        "csv_path",
        id="csv-path-with-newline",
    ),
    pytest.param({"package_name": "p" * 51}, "package_name", id="package-too-long"),
    pytest.param({"model_name": "m" * 101}, "model_name", id="model-too-long"),
    pytest.param({"model_name": "classifier\n"}, "model_name", id="model-trailing-newline"),
    pytest.param({"author_email": "zoë@example.com"}, "author_email", id="email-non-ascii-local"),
    pytest.param({"author_email": "a,b@example.com"}, "author_email", id="email-comma"),
    pytest.param(
        {"storage": "s3", "s3_endpoint_url": "http://127.0.0.1:9000/$(id)"},
        "s3_endpoint_url",
        id="s3-endpoint-shell-characters",
    ),
]


@pytest.mark.parametrize(("context", "variable"), INVALID)
def test_invalid_variable_fails_in_pre_gen_hook(cookies, capfd, tmp_path, context, variable):
    result = cookies.bake(extra_context=context)

    assert result.exit_code != 0
    assert type(result.exception).__name__ == "FailedHookException"
    error_lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(error_lines) == 1, error_lines
    assert error_lines[0].startswith("error:") and variable in error_lines[0], error_lines
    # pytest-cookies bakes into <tmp_path>/cookies/bakeNN: it must hold nothing now.
    left = [p for p in (tmp_path / "cookies").rglob("*") if p.is_file()]
    assert left == [], f"files left on disk: {left}"


def test_csv_without_target_column_is_refused(cookies, capfd, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    result = cookies.bake(
        extra_context={"dataset": "csv", "csv_path": str(data), "target_column": "label"}
    )
    assert result.exit_code != 0
    err = capfd.readouterr().err
    assert "target_column" in err and "label" in err, err


def test_csv_empty_file_is_refused(cookies, capfd, tmp_path):
    data = tmp_path / "empty.csv"
    data.write_text("")
    result = cookies.bake(
        extra_context={"dataset": "csv", "csv_path": str(data), "target_column": "y"}
    )
    assert result.exit_code != 0
    assert "csv_path" in capfd.readouterr().err
