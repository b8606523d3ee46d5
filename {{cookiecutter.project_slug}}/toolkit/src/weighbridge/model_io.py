"""Save and load the model with skops (never pickle), byte for byte reproducibly.

``skops.io.dumps`` is not deterministic: zip entries carry the current time, and object
ids (memory addresses) appear as ``__id__`` in schema.json and in member file names. We
rewrite the archive canonically: ids renumbered in order of first appearance, members
renamed to match, a fixed timestamp, a fixed member order, no compression (so the bytes
do not depend on the zlib build). Same model -> same sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.base import BaseEstimator
from skops.io.exceptions import UntrustedTypesFoundException

from .errors import ProjectError
from .schema import Schema
from .signature import describe, plain  # noqa: F401  (plain: re-exported for gate, scoring)
from .transformers import DateParts

MODEL_FILE = "model.skops"
SIGNATURE_FILE = "signature.json"
ENVIRONMENT_FILE = "environment.json"
# Types beyond skops' defaults that our pipelines contain. Anything else is refused; the
# list is code, never read from a model file.
TRUSTED_TYPES = [
    # the fitted imputers' dtype of the data they saw
    "numpy.dtype",
    # the trees of hist_gradient_boosting, and the tree of each random forest member
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    # hist_gradient_boosting with categorical features keeps a FunctionTransformer of
    # partial(check_array, ...): partial is safe here because its function is itself
    # checked against this list (only check_array passes)
    "functools.partial",
    "sklearn.utils.validation.check_array",
    # the toolkit's own date transformer (transformers.py)
    f"{DateParts.__module__}.{DateParts.__qualname__}",
]
ENVIRONMENT_PACKAGES = ("scikit-learn", "skops", "numpy", "pandas", "dvc")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SCHEMA_MEMBER = "schema.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def renumber(node: Any, ids: dict[int, int], files: dict[str, str], members: set[str]) -> Any:
    """Copy of the skops schema with ids and member names replaced by first-seen counters."""
    if isinstance(node, list):
        return [renumber(item, ids, files, members) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "__id__" and isinstance(value, int):
            result[key] = ids.setdefault(value, len(ids) + 1)
        elif key == "file" and isinstance(value, str) and value in members:
            suffix = Path(value).suffix
            result[key] = files.setdefault(value, f"{len(files) + 1}{suffix}")
        else:
            result[key] = renumber(value, ids, files, members)
    return result


def canonical_skops(model: BaseEstimator) -> bytes:
    """skops bytes of ``model``, identical for identical models."""
    with zipfile.ZipFile(io.BytesIO(sio.dumps(model))) as source:
        members = set(source.namelist()) - {SCHEMA_MEMBER}
        files: dict[str, str] = {}
        schema = renumber(json.loads(source.read(SCHEMA_MEMBER)), {}, files, members)
        if set(files) != members:
            raise ProjectError("model.skops: unexpected skops layout, cannot canonicalise")
        contents = {new: source.read(old) for old, new in files.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        write_member(target, SCHEMA_MEMBER, json.dumps(schema, indent=2).encode())
        for name in sorted(contents, key=lambda name: int(Path(name).stem)):
            write_member(target, name, contents[name])
    return buffer.getvalue()


def write_member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # unix, whatever machine writes it
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_json(path: Path, payload: Any) -> None:
    write_atomic(path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())


def environment() -> dict[str, Any]:
    packages = {}
    for name in ENVIRONMENT_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
    }


def signature(
    model: BaseEstimator, schema: Schema, model_name: str, model_bytes: bytes
) -> dict[str, Any]:
    return {
        **describe(model, schema, model_name),
        "weights": {
            "file": MODEL_FILE,
            "sha256": hashlib.sha256(model_bytes).hexdigest(),
            "bytes": len(model_bytes),
        },
    }


def save_model(
    model: BaseEstimator, model_dir: Path, schema: Schema, model_name: str
) -> dict[str, Any]:
    """Write model.skops, signature.json and environment.json; return the signature."""
    model_bytes = canonical_skops(model)
    model_signature = signature(model, schema, model_name, model_bytes)
    write_atomic(model_dir / MODEL_FILE, model_bytes)
    write_json(model_dir / SIGNATURE_FILE, model_signature)
    write_json(model_dir / ENVIRONMENT_FILE, environment())
    return model_signature


def read_signature(model_dir: Path) -> dict[str, Any]:
    path = model_dir / SIGNATURE_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProjectError(f"{path}: not found (run `dvc repro` or `dvc pull`)") from exc
    except ValueError as exc:
        raise ProjectError(f"{path}: not valid JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("weights"), dict):
        raise ProjectError(f"{path}: not a model signature")
    return payload


def load_model(model_dir: Path) -> BaseEstimator:
    """Load the weights after checking their sha256 against signature.json."""
    expected = read_signature(model_dir)["weights"].get("sha256")
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise ProjectError(f"{path}: not found (run `dvc repro` or `dvc pull`)")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ProjectError(f"{path}: sha256 {actual} does not match signature.json {expected}")
    return load_trusted(data, str(path))


def load_trusted(data: bytes, source: str) -> BaseEstimator:
    try:
        return sio.loads(data, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as exc:
        raise ProjectError(f"{source}: refuses untrusted types: {exc}") from exc
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ProjectError(f"{source}: not a readable skops file ({exc})") from exc
