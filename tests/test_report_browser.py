"""The registry report in a real browser: headless Chromium opens every page from disk
(file://, network features off) and each screenshot shows the page and its charts.

Chromium comes from the system's packages (`.ci/run` installs it on the CI machine);
where it is missing this test skips and says so.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.helpers import bake_ok, dvc, git, pymod, train_and_register

pytestmark = pytest.mark.slow

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p),
    None,
)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip
WIDTH, HEIGHT = 1000, 2600
INK = (0x1F, 0x77, 0xB4)  # svg.LINE_COLOR: only the report's charts are drawn in it


def screenshot(url: str, out: Path, profile: Path) -> Path:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}",
         f"--window-size={WIDTH},{HEIGHT}", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.is_file(), f"chromium wrote no screenshot of {url}:\n{result.stderr[-2000:]}"
    return out


def pixels(png: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG, as Chromium
    writes them: enough of the format to count pixels, with zlib from the standard library."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        if kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = unfiltered(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        rows.append(line)
        previous = line
    return width, channels, rows


LOW7, HIGH = int.from_bytes(b"\x7f" * 8192, "big"), int.from_bytes(b"\x80" * 8192, "big")


def unfiltered(kind: int, line: bytes, up: bytes, channels: int) -> bytes:
    """One row of pixels from its filtered bytes (PNG filters 0-4)."""
    if kind == 0:
        return line
    if kind == 2:  # "up", most of Chromium's rows: add bytewise, without carries (SWAR)
        size = len(line)
        low, high = LOW7 >> (8 * (8192 - size)), HIGH >> (8 * (8192 - size))
        a, b = int.from_bytes(line, "big"), int.from_bytes(up, "big")
        return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(size, "big")
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - channels] if i >= channels else 0
        corner = up[i - channels] if i >= channels else 0
        out[i] = (out[i] + predictor(kind, left, up[i], corner)) & 0xFF
    return bytes(out)


def predictor(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 1:
        return left
    if kind == 3:
        return (left + up) // 2
    guess = left + up - corner  # Paeth
    near = min(
        (abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner)
    )
    return near[2]


def colour_counts(png: Path) -> tuple[int, int]:
    """(pixels that are not white, pixels in the charts' ink)."""
    width, channels, rows = pixels(png)
    not_white = ink = 0
    for row in rows:
        if row.count(255) == len(row):
            continue  # a white row: most of a page
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if (r, g, b) != (255, 255, 255):
                not_white += 1
            if abs(r - INK[0]) + abs(g - INK[1]) + abs(b - INK[2]) < 30:
                ink += 1
    return not_white, ink


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on this machine (apt-get install chromium; .ci/run does it on CI)",
)
def test_every_report_page_renders_with_its_charts(cookies, tmp_path):
    project = bake_ok(cookies)  # classification: ROC and PR curves on the cards
    train_and_register(project)
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("seed: 42", "seed: 7", 1))
    dvc(project, "repro")
    git(project, "commit", "-qam", "retrain with another seed")
    pymod(project, "registry", "register")
    pymod(project, "registry", "promote", "v1.0.1", "--stage", "staging", "--reason", "<b>ok</b>")
    site = tmp_path / "site"
    pymod(project, "registry", "report", "--out", str(site))
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 3  # the index and two model cards
    card = (site / "cards" / "classifier" / "v1.0.0.html").read_text()
    assert "Signature: 30 inputs" in card  # breast_cancer's features, from the DVC cache
    for number, page in enumerate(pages):
        png = screenshot(page.as_uri(), tmp_path / f"page{number}.png", tmp_path / "chromium")
        not_white, ink = colour_counts(png)
        assert not_white > 5000, f"{page.name}: blank page ({not_white} coloured pixels)"
        # a chart: axes and a line or bars drawn in the ink, hundreds of pixels of it
        assert ink > 300, f"{page.relative_to(site)}: no chart drawn ({ink} pixels of ink)"
