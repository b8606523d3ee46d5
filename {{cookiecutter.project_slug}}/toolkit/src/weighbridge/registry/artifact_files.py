"""A registered version's small model files (``signature.json``, ``profile.json``) read
from this clone's DVC cache, without dvc: the artifact's directory listing
(``<md5>.dir``) names each file's md5, and the file's sha256 must equal the manifest's
before it is believed. Files not in the cache (never pulled here) are simply absent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MAX_BYTES = 4 << 20  # signature and profile files are kilobytes; a weights file is not read


def cached_json(project: Path, manifest: dict, name: str) -> tuple[Any, str | None]:
    """(the file's JSON, None), or (None, why it cannot be shown)."""
    artifact = manifest.get("artifact") if isinstance(manifest.get("artifact"), dict) else {}
    files = artifact.get("files") if isinstance(artifact.get("files"), dict) else {}
    meta = files.get(name)
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
        return None, f"the manifest lists no {name}"
    raw = cached_file(project / ".dvc" / "cache" / "files" / "md5", artifact.get("md5"), name)
    if raw is None:
        return None, f"{name} is not in this clone's DVC cache (dvc pull to see it)"
    if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
        return None, f"{name} in the DVC cache does not match the manifest's sha256"
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError):
        return None, f"{name} is not valid JSON"


def cached_file(cache: Path, dir_md5: Any, name: str) -> bytes | None:
    listing = read_object(cache, dir_md5)
    try:
        entries = json.loads(listing) if listing is not None else []
    except (ValueError, UnicodeDecodeError):
        return None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("relpath") == name:
            return read_object(cache, entry.get("md5"))
    return None


def read_object(cache: Path, md5: Any) -> bytes | None:
    """An object of the cache by its md5 (a directory listing ends in ``.dir``)."""
    if not isinstance(md5, str) or len(md5) < 3 or not md5.replace(".dir", "").isalnum():
        return None
    path = cache / md5[:2] / md5[2:]
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None
