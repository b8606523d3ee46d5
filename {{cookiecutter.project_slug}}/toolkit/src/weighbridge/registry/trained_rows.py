"""Which rows a registered version trained on, for the gate to leave out of its scoring.

The split rule is a pure function of the rows and prepare's params (``splitting.py``), so
the version's commit says it all. When the version was split by the hash rule with the
same params and the same columns as the work tree's hold-out set, every hold-out row was
on the hold-out side for it too: nothing to leave out, nothing to read. Otherwise (another
rule, another test_size or seed, other columns) its rows are read: the training rows
prepare wrote at its commit (``data/prepared/train.parquet``, through DVC: the cache, then
the remote), reduced to row keys.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..config import PrepareParams, ProjectPaths, load_prepare
from ..gate.inputs import TrainedRows
from ..schema import Schema, load_schema
from ..splitting import row_keys
from .committed import label_of, read_at_commit
from .derived import files_at
from .errors import RegistryError
from .store import Version

PARAMS, SCHEMA = "params.yaml", "data/schema.yaml"
PREPARED, TRAIN_FILE = "data/prepared", "train.parquet"


def trained_rows(repo_dir: Path, version: Version, workspace: Path) -> TrainedRows:
    """None when ``version``'s split provably kept the hold-out rows of ``workspace`` (the
    project, or an experiment's copy of it) out of its training; else a loader of its
    training rows' keys, read through ``repo_dir``."""
    paths = ProjectPaths(Path(workspace))
    schema = load_schema(paths.schema)
    ours = load_prepare(paths.params, schema.task)
    theirs, their_schema = split_at(repo_dir, version)
    if same_hash_rule(ours, theirs) and columns_of(schema) == columns_of(their_schema):
        return None
    return lambda: training_keys(repo_dir, version, schema)


def same_hash_rule(ours: PrepareParams, theirs: PrepareParams | None) -> bool:
    return (
        theirs is not None
        and ours.split == theirs.split == "hash"
        and (ours.test_size, ours.seed) == (theirs.test_size, theirs.seed)
    )


def columns_of(schema: Schema | None) -> list[tuple[str, str]] | None:
    """What a row key hashes: the kept columns and their types."""
    if schema is None:
        return None
    return [(column.name, column.dtype) for column in schema.used_columns]


def split_at(repo_dir: Path, version: Version) -> tuple[PrepareParams | None, Schema | None]:
    """prepare's params and the schema at the version's commit (None where unreadable: its
    rows are then read rather than assumed)."""
    found = files_at(repo_dir, version.commit, [PARAMS, SCHEMA])
    if found.get(PARAMS) is None or found.get(SCHEMA) is None:
        return None, None
    with tempfile.TemporaryDirectory() as scratch:
        for name in (PARAMS, SCHEMA):
            target = Path(scratch) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(found[name])
        try:
            schema = load_schema(Path(scratch) / SCHEMA)
            return load_prepare(Path(scratch) / PARAMS, schema.task), schema
        except Exception:  # an old or broken file at that commit: read its rows instead
            return None, None


def training_keys(repo_dir: Path, version: Version, schema: Schema) -> np.ndarray:
    """The row keys of the rows ``version`` trained on (its commit's train.parquet)."""
    import pyarrow as pa

    from ..reading import read_prepared

    label = label_of(version)
    contents = read_at_commit(
        repo_dir, version.commit, PREPARED, [TRAIN_FILE], label, what="the rows it trained on"
    )
    shown = f"{label} {PREPARED}/{TRAIN_FILE}"
    try:
        frame = read_prepared(pa.BufferReader(contents[TRAIN_FILE]), schema, shown)
    except Exception as exc:  # another schema at its commit: its rows cannot be matched
        raise RegistryError(f"cannot tell which hold-out rows it trained on: {exc}") from None
    return np.unique(row_keys(frame, schema))
