"""`registry report --out DIR` on a real git + DVC registry: pages read back with html.parser."""

import hashlib
import io
import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd
import pytest
from registry_helpers import MODEL_NAME, call, git, make_project, retrain
from sklearn.datasets import load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from weighbridge import plots, profiles
from weighbridge.registry import (
    artifact_files,
    report_figures,
    report_pages,
    report_profile,
)
from weighbridge.registry.store import load_registry

pytestmark = pytest.mark.slow  # real git + DVC repositories

HOSTILE = "<script>alert(\"x\")</script> 'quoted' & <b>bold</b>"
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "wbr", "source", "area", "base"}
ROC = "fpr,tpr\n0.0,0.0\n0.1,0.7\n0.3,0.9\n1.0,1.0\n"
CONFUSION = "actual,predicted\n0,0\n0,0\n0,1\n1,1\n1,1\n1,1\n"
# wine's classes renamed: curve names and confusion labels come from class labels
WINE_LABELS = ["barolo", "<i>grignolino</i>", "barbera & 'x'"]
BAND = "petal band"  # a category derived from the iris data; its names are markup
# The toy train stage, plus the profile train writes (the package's own code).
PROFILE_STEP = f"""
if stage == "train":
    import pandas as pd
    from weighbridge.profiles import profile, write_profile

    data = pd.read_csv("data/raw/dataset.csv")
    numbers = [name for name in data.columns if name not in ("species", "{BAND}")]
    features = dict.fromkeys(numbers, "float64") | dict.fromkeys(["{BAND}"], "category")
    write_profile(model_dir, profile(data, features, "species", "category"))
"""


class Page(HTMLParser):
    """What the tests look at: cells with a manifest key, links, text, and tag balance."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.keyed: list[tuple[str, str]] = []  # (data-key, text)
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.problems: list[str] = []
        self._open: list[str] = []
        self._key: str | None = None
        self._cell: list[str] = []
        self.stats: dict[tuple, str] = {}  # (feature, stat, category or None): text
        self._stat: tuple | None = None
        self.feed(text)
        self.close()
        self.problems += [f"<{tag}> never closed" for tag in self._open]

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attributes = dict(attrs)
        self.urls += [attributes[a] for a in ("href", "src", "xlink:href") if a in attributes]
        if tag not in VOID:
            self._open.append(tag)
        if "data-key" in attributes:
            self._key, self._cell = attributes["data-key"], []
        if "data-feature" in attributes:
            stat = (attributes["data-feature"], attributes["data-stat"])
            self._stat, self._cell = (*stat, attributes.get("data-category")), []

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        attributes = dict(attrs)
        self.urls += [attributes[a] for a in ("href", "src", "xlink:href") if a in attributes]

    def handle_endtag(self, tag):
        if not self._open or self._open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self._open[-1] if self._open else 'nothing'}")
            return
        self._open.pop()
        if tag == "td" and self._key is not None:
            self.keyed.append((self._key, "".join(self._cell)))
            self._key = None
        if tag == "td" and self._stat is not None:
            assert self._stat not in self.stats, self._stat  # each statistic once
            self.stats[self._stat] = "".join(self._cell)
            self._stat = None

    def handle_data(self, data):
        self.text.append(data)
        if self._key is not None or self._stat is not None:
            self._cell.append(data)


def leaves(node, prefix=""):
    """Every value of a manifest by its dotted key, lists by index (``gate.checks.0.value``)."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return {prefix: node}
    found = {}
    for key, value in items:
        found.update(leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    return found


@pytest.fixture(scope="module")
def wine_plots() -> dict[str, str]:
    """The plot files the evaluate stage writes for a three-class model: wine, a
    scaled logistic regression, a stratified hold-out; ``plots.py`` makes the tables."""
    features, target = load_wine(return_X_y=True, as_frame=True)
    labels = target.map(dict(enumerate(WINE_LABELS)))
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.3, stratify=labels, random_state=0
    )
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x_train, y_train)
    proba, classes = model.predict_proba(x_test), list(model.classes_)
    tables = {
        "confusion.csv": plots.confusion_table(y_test, model.predict(x_test), classes),
        "roc.csv": plots.roc_table(y_test, proba, classes),
        "pr.csv": plots.pr_table(y_test, proba, classes),
    }
    return {name: table.to_csv(index=False) for name, table in tables.items()}


@pytest.fixture(scope="module")
def registry_repo(tmp_path_factory, wine_plots) -> Path:
    """v1.0.0 and v1.1.0 with plots in the old layouts, v1.2.0 with wine's plots in
    today's and trained on iris, with its data profile; promotions, a rollback and a
    deprecation whose reasons are hostile text."""
    repo = make_project(tmp_path_factory.mktemp("report"))
    (repo / "plots").mkdir()
    (repo / "plots" / "roc.csv").write_text(ROC)
    (repo / "plots" / "confusion.csv").write_text(CONFUSION)
    git(repo, "add", "plots")
    git(repo, "commit", "-q", "-m", "plots")
    assert call_ok(repo, "register")
    retrain(repo, 0.92)
    assert call_ok(repo, "register", "--bump", "minor")
    for name, text in wine_plots.items():
        (repo / "plots" / name).write_text(text)
    script = repo / "toy_pipeline.py"
    script.write_text(script.read_text() + PROFILE_STEP)
    profiled_iris().to_csv(repo / "data" / "raw" / "dataset.csv", index=False)
    retrain(repo, 0.95, seed=2)
    assert call_ok(repo, "register", "--bump", "minor")
    assert call_ok(repo, "promote", "v1.0.0", "--stage", "staging", "--reason", HOSTILE)
    assert call_ok(repo, "promote", "v1.1.0", "--stage", "staging")
    assert call_ok(repo, "rollback", "--stage", "staging", "--reason", HOSTILE)
    assert call_ok(repo, "deprecate", "v1.1.0", "--reason", HOSTILE)
    return repo


def profiled_iris() -> pd.DataFrame:
    """Iris with its species names, a category made from petal length whose names are
    markup, and every tenth sepal width missing."""
    iris = load_iris(as_frame=True)
    data = iris.frame.rename(columns={"target": "species"})
    data["species"] = data["species"].map(dict(enumerate(iris.target_names)))
    names = ["<b>short</b>", "mid & x", "long"]
    bands = pd.cut(data["petal length (cm)"], [0, 2, 5, 10], labels=names)
    data[BAND] = bands.astype(str)
    data.loc[data.index % 10 == 0, "sepal width (cm)"] = np.nan
    return data


def call_ok(repo: Path, *args: str) -> bool:
    from weighbridge.registry.cli import main

    return main([args[0], "-C", str(repo), *args[1:]]) == 0


@pytest.fixture(scope="module")
def site(registry_repo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "report"
    assert call_ok(registry_repo, "report", "--out", str(out))
    return out


def pages(site: Path) -> dict[str, Page]:
    return {
        p.relative_to(site).as_posix(): Page(p.read_text(encoding="utf-8"))
        for p in site.rglob("*.html")
    }


def test_every_version_has_a_card_linked_from_the_index(registry_repo, site):
    registry = load_registry(registry_repo)
    versions = registry.versions(MODEL_NAME)
    assert [v.version for v in versions] == ["v1.0.0", "v1.1.0", "v1.2.0"]
    found = pages(site)
    index_links = {unquote(url) for url in found["index.html"].urls}
    for version in versions:
        card = report_pages.card_path(version.model, version.version)
        assert card in found, card
        assert card in index_links
    assert set(found) == {"index.html"} | {
        report_pages.card_path(v.model, v.version) for v in versions
    }
    record = json.loads((site / "REPORT.json").read_text())
    assert set(record["files"]) == set(found)


def test_every_number_shown_matches_the_manifest(registry_repo, site):
    registry = load_registry(registry_repo)
    found = pages(site)
    for version in registry.versions(MODEL_NAME):
        values = leaves(version.manifest)
        card = found[report_pages.card_path(version.model, version.version)]
        shown = dict(card.keyed)
        assert len(shown) == len(card.keyed)  # each number once per card
        for key, text in card.keyed:
            assert float(text) == values[key], (version.version, key, text)
        numbers = {k for k, v in values.items() if isinstance(v, (int, float))}
        numbers -= {k for k, v in values.items() if isinstance(v, bool)}
        assert numbers <= set(shown), numbers - set(shown)  # no number left out
    index = found["index.html"]
    assert index.keyed
    manifests = [leaves(v.manifest) for v in registry.versions(MODEL_NAME)]
    for key, text in index.keyed:  # rounded to 4 significant digits on the index
        assert any(
            math.isclose(float(text), m[key], rel_tol=5e-4) for m in manifests if key in m
        ), (key, text)


def test_pages_are_valid_html_with_no_external_url(site):
    for name, page in pages(site).items():
        assert not page.problems, (name, page.problems)
        assert {"html", "head", "body", "title"} <= page.tags, name
        for url in page.urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, (name, url)
            target = (site / name).parent / unquote(parts.path)
            assert target.resolve().is_file(), (name, url)  # every link leads to a page
        assert "script" not in page.tags and "iframe" not in page.tags, name


def test_the_timeline_shows_hostile_reasons_as_text(site):
    index = pages(site)["index.html"]
    text = "".join(index.text)
    assert text.count(HOSTILE) == 3  # promote, rollback, deprecate: each reason exactly
    assert "script" not in index.tags and "b" not in index.tags
    for event in ("promote", "rollback", "deprecate"):
        assert event in text


def test_a_card_says_where_the_version_stands_now_apart_from_its_registration(site):
    """v1.0.0 is in staging again after a rollback: its card says so (since when, by
    whom, why), beside the verdict recorded when it was registered."""
    found = pages(site)
    texts = {
        version: " ".join(found[report_pages.card_path(MODEL_NAME, version)].text)
        for version in ("v1.0.0", "v1.1.0", "v1.2.0")
    }
    first = texts["v1.0.0"]
    assert "Where it stands now" in first and "Gate verdict at registration" in first
    standing = first.split("Where it stands now", 1)[1].split("Gate verdict at registration")[0]
    assert "staging" in standing and "rollback" in standing and HOSTILE in standing
    assert "Ada Lovelace" in standing
    assert "in no stage now (deprecated)" in texts["v1.1.0"]
    assert "in no stage now (registered)" in texts["v1.2.0"]


def test_cards_draw_the_plots_committed_at_the_version(site):
    found = pages(site)
    with_plots = found[report_pages.card_path(MODEL_NAME, "v1.0.0")]
    assert {"svg", "polyline"} <= with_plots.tags  # the ROC curve
    text = "".join(with_plots.text)
    assert "ROC curve" in text and "Confusion matrix" in text
    html = (site / report_pages.card_path(MODEL_NAME, "v1.0.0")).read_text()
    matrix = html.split('<table class="confusion">')[1].split("</table>")[0]
    # actual 0: predicted 0 twice, 1 once; actual 1: predicted 1 three times
    assert re.findall(r"<td[^>]*>(\d+)</td>", matrix) == ["2", "1", "0", "3"]
    later = "".join(found[report_pages.card_path(MODEL_NAME, "v1.2.0")].text)
    assert "ROC curve" in later  # the plots stay committed in later commits
    earlier = "".join(found[report_pages.card_path(MODEL_NAME, "v1.1.0")].text)
    assert "no profile recorded" in earlier  # trained before its pipeline wrote a profile


def charts(html: str) -> dict[str, str]:
    """Each inline SVG chart of a page by its title."""
    found = re.findall(r'<svg [^>]*aria-label="([^"]*)"[^>]*>(.*?)</svg>', html, re.S)
    return {Page(title).text[0]: body for title, body in found}


def test_a_multiclass_card_draws_each_curve_with_a_legend_naming_it(site, wine_plots):
    html = (site / report_pages.card_path(MODEL_NAME, "v1.2.0")).read_text()
    drawn = charts(html)
    for name, title, count in [
        ("roc.csv", "ROC curves (hold-out)", 5),  # 3 classes, micro- and macro-average
        ("pr.csv", "Precision-recall curves (hold-out)", 4),  # 3 classes, micro-average
    ]:
        curves = list(dict.fromkeys(pd.read_csv(io.StringIO(wine_plots[name]))["curve"]))
        assert len(curves) == count
        chart = Page(drawn[title])
        assert not chart.problems and "i" not in chart.tags  # the label <i>…</i> is text
        assert set(curves) <= set(chart.text), (curves, chart.text)  # the legend
        lines = re.findall(r'<polyline [^>]*stroke="(#[0-9a-f]{6})"', drawn[title])
        assert len(lines) == len(curves) == len(set(lines))  # one line each, own colour
        thick = re.findall(r'<polyline [^>]*stroke-width="3"', drawn[title])
        assert len(thick) == sum(report_figures.is_average(c) for c in curves) > 0


def test_a_card_confusion_matrix_sums_the_counts_of_the_csv(site, wine_plots):
    html = (site / report_pages.card_path(MODEL_NAME, "v1.2.0")).read_text()
    expected = pd.read_csv(io.StringIO(wine_plots["confusion.csv"]), dtype={"count": int})
    assert expected["count"].sum() == 54  # 30 % of wine's 178 rows, not one per pair
    sums = expected.groupby(["actual", "predicted"])["count"].sum()
    assert shown_matrix(html) == dict(sums.items())


def shown_matrix(html: str) -> dict[tuple[str, str], int]:
    """The confusion table of a page: (actual, predicted) -> count, zero cells left out."""
    table = html.split('<table class="confusion">')[1].split("</table>")[0]
    head, *rows = re.findall(r"<tr>(.*?)</tr>", table)
    labels = [Page(cell).text[0] for cell in re.findall(r"<th>.*?</th>", head)[1:]]
    found = {}
    for row in rows:
        actual = Page(re.search(r"<th>.*?</th>", row).group(0)).text[0]
        counts = [int(n) for n in re.findall(r"<td[^>]*>(\d+)</td>", row)]
        found.update({(actual, p): n for p, n in zip(labels, counts, strict=True) if n})
    return found


def test_old_and_new_plot_layouts_render_from_literal_csv():
    old_roc = Page(report_figures.plot_html("roc.csv", ROC))
    assert [t for t in old_roc.text if "ROC" in t] == ["ROC curve (hold-out)"]
    assert report_figures.plot_html("roc.csv", ROC).count("<polyline") == 1
    rows = [(HOSTILE, 0, 1), (HOSTILE, 1, 0.5), (plots.MICRO, 0, 1), (plots.MICRO, 1, 0.4)]
    hostile = pd.DataFrame(rows, columns=["curve", "recall", "precision"]).to_csv(index=False)
    new_pr = report_figures.plot_html("pr.csv", hostile)
    page = Page(new_pr)
    assert not page.problems and "script" not in page.tags and "b" not in page.tags
    assert {HOSTILE, plots.MICRO} <= set(page.text)
    assert new_pr.count("<polyline") == 2
    counted = "actual,predicted,count\n0,0,5\n0,1,2\n1,1,7\n0,0,1\n"  # (0, 0) twice
    assert shown_matrix(report_figures.plot_html("confusion.csv", counted)) == {
        ("0", "0"): 6, ("0", "1"): 2, ("1", "1"): 7,
    }  # fmt: skip
    assert shown_matrix(report_figures.plot_html("confusion.csv", CONFUSION)) == {
        ("0", "0"): 2, ("0", "1"): 1, ("1", "1"): 3,
    }  # fmt: skip
    bad = report_figures.plot_html("confusion.csv", "actual,predicted,count\n0,0,<b>\n")
    assert Page(bad).text == ["plots/confusion.csv: count '<b>' is not a whole number"]


def test_regression_plots_draw_a_y_equals_x_guide_and_residuals_when_present():
    old = report_figures.plot_html("predictions.csv", "actual,predicted\n1,1.5\n2,1.8\n4,3\n")
    assert list(charts(old)) == ["Predicted vs actual (hold-out; dashed line y = x)"]
    assert old.count("stroke-dasharray") == 1  # the y = x guide
    new = report_figures.plot_html(
        "predictions.csv", "actual,predicted,residual\n1,1.5,-0.5\n2,1.8,0.2\n4,3,1\n"
    )
    drawn = charts(new)
    assert list(drawn) == [
        "Predicted vs actual (hold-out; dashed line y = x)",
        "Residuals (actual - predicted) vs predicted (hold-out)",
    ]
    residuals = drawn["Residuals (actual - predicted) vs predicted (hold-out)"]
    assert residuals.count("<circle") == 3 and residuals.count("stroke-dasharray") == 1


def test_the_report_knows_the_average_curve_names_plots_writes():
    assert report_figures.is_average(plots.MICRO) and report_figures.is_average(plots.MACRO)
    assert not report_figures.is_average(f"{plots.MICRO} vs rest")  # a class named so


def test_an_earlier_report_is_replaced_and_anything_else_refused(registry_repo, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = call(capsys, registry_repo, "report", "--out", str(out))
    assert code == 0, err
    first = snapshot(out)
    code, _, err = call(capsys, registry_repo, "report", "--out", str(out))  # its own: replaced
    assert code == 0 and snapshot(out).keys() == first.keys(), err
    (out / "notes.txt").write_text("mine")
    for folder, problem in [
        (out, "it holds notes.txt, which its REPORT.json does not list"),
        (registry_repo, "and no REPORT.json"),
        (out / "notes.txt", "it exists and is not a folder"),
    ]:
        before = snapshot(folder) if folder.is_dir() else folder.read_bytes()
        code, stdout, err = call(capsys, registry_repo, "report", "--out", str(folder))
        assert code == 1 and not stdout
        assert err.startswith("error: --out ") and err.count("\n") == 1 and problem in err, err
        assert (snapshot(folder) if folder.is_dir() else folder.read_bytes()) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        os.path.relpath(os.path.join(root, name), folder): Path(root, name).read_bytes()
        for root, _, names in os.walk(folder)
        if ".git" not in Path(root).relative_to(folder).parts
        for name in names
    }


def profile_stats(profile: dict) -> dict[tuple, object]:
    """What a card shows of each feature (and the target), keyed as its cells are."""
    stats = {}
    columns = {**profile["features"], profile["target"]["name"]: profile["target"]}
    for name, info in columns.items():
        stats[(name, "missing", None)] = info["missing"]
        if "top" in info:
            stats[(name, "distinct", None)] = info["distinct"]
            stats[(name, "other", None)] = info["other"]
            stats.update({(name, "top", c): share for c, share in info["top"].items()})
            continue
        stats.update({(name, key, None): info[key] for key in ("mean", "std") if key in info})
        at = {"min": 0.0, "median": 0.5, "max": 1.0}
        grid = profile["grid"]
        stats.update({(name, s, None): info["quantiles"][grid.index(q)] for s, q in at.items()})
    return stats


def assert_shows_profile(page: Page, profile: dict) -> None:
    """Every statistic of the profile is on the page, as the card rounds it: shares as
    percentages to 0.1, other numbers to 4 significant digits, datetimes as written."""
    expected = profile_stats(profile)
    assert set(page.stats) == set(expected)
    for key, value in expected.items():
        text = page.stats[key]
        if key[1] in ("missing", "other", "top"):
            assert text.endswith("%") and abs(float(text[:-1]) - 100 * value) <= 0.05 + 1e-9, key
        elif isinstance(value, str):
            assert text == value, key
        else:
            assert math.isclose(float(text), value, rel_tol=5e-4), (key, text, value)


def test_the_card_shows_the_training_data_profile_train_wrote(registry_repo, site):
    version = load_registry(registry_repo).versions(MODEL_NAME)[-1]
    written = (registry_repo / version.manifest["data"]["profile"]["file"]).read_bytes()
    sha256 = version.manifest["artifact"]["files"]["profile.json"]["sha256"]
    assert hashlib.sha256(written).hexdigest() == sha256  # HEAD is this version's commit
    profile = json.loads(written)
    card = pages(site)[report_pages.card_path(version.model, version.version)]
    assert_shows_profile(card, profile)
    assert len(profile["features"]) == 5 and profile["features"]["sepal width (cm)"]["missing"]
    assert {"<b>short</b>", "mid & x", "long"} <= set(profile["features"][BAND]["top"])
    text = "".join(card.text)
    assert "target: species" in text and f"{BAND}: top categories" in text
    assert "<b>short</b>" in text and "b" not in card.tags  # a category name stays text


def test_a_profile_is_drawn_per_feature_and_its_names_escaped():
    rng = np.random.default_rng(3)
    rows = 400
    hostile = rng.choice(["<i>y</i>", "a & b", '"q"'], size=rows).astype(object)
    hostile[:20] = np.nan
    frame = pd.DataFrame(
        {
            "<b>x</b>": hostile,
            "many": [f"c{i % 25}" for i in range(rows)],  # 25 categories: 20 kept, 5 other
            "size": rng.normal(5.0, 2.0, rows),
            "day": pd.Series(pd.date_range("2024-01-01", periods=rows, freq="D")),
            "label": rng.choice([0, 1, 2], size=rows),
        }
    )
    dtypes = {"<b>x</b>": "category", "many": "category", "size": "float64", "day": "datetime"}
    profile = profiles.profile(frame, dtypes, "label", "int64")
    page = Page(report_profile.profile_html(profile))
    assert not page.problems
    assert not {"b", "i"} & page.tags and "svg" in page.tags
    assert_shows_profile(page, profile)
    text = "".join(page.text)
    for shown in ("<b>x</b>: top categories", "<i>y</i>", "a & b", '"q"', "target: label"):
        assert shown in text, shown
    assert "(other)" in text and "size: decile bins (bar area = share of rows)" in text
    assert report_profile.profile_html(None) == report_figures.note("no profile recorded")
    assert "dvc pull" in report_profile.profile_html(None, "not in the cache (dvc pull)")


def test_predictions_are_drawn_as_points_and_bad_plot_files_named():
    scatter = Page(report_figures.plot_html("predictions.csv", "actual,predicted\n1,1.5\n2,1.8\n"))
    assert "circle" in scatter.tags and "polyline" not in scatter.tags
    assert "Predicted vs actual" in "".join(scatter.text)
    broken = report_figures.plot_html("roc.csv", "a,b\nx,y\n")
    assert "plots/roc.csv: no numeric fpr and tpr columns" in broken


def test_signature_is_read_from_the_dvc_cache_only_when_its_sha256_matches(tmp_path):
    signature = json.dumps({"inputs": [{"name": "<x>", "dtype": "float64"}]}).encode()
    cache = tmp_path / ".dvc" / "cache" / "files" / "md5"
    file_md5, dir_md5 = "ab" + "1" * 30, "cd" + "2" * 30 + ".dir"
    for md5, content in [
        (file_md5, signature),
        (dir_md5, json.dumps([{"md5": file_md5, "relpath": "signature.json"}]).encode()),
    ]:
        (cache / md5[:2]).mkdir(parents=True, exist_ok=True)
        (cache / md5[:2] / md5[2:]).write_bytes(content)
    sha256 = hashlib.sha256(signature).hexdigest()
    manifest = {"artifact": {"md5": dir_md5, "files": {"signature.json": {"sha256": sha256}}}}
    found = artifact_files.cached_json(tmp_path, manifest, "signature.json")
    assert found == (json.loads(signature), None)
    section = Page(report_pages.signature_section(found))
    assert "Signature: 1 inputs" in "".join(section.text) and "<x>" in "".join(section.text)
    manifest["artifact"]["files"]["signature.json"]["sha256"] = "0" * 64
    value, problem = artifact_files.cached_json(tmp_path, manifest, "signature.json")
    assert value is None and "does not match the manifest's sha256" in problem
    missing = artifact_files.cached_json(tmp_path / "elsewhere", manifest, "signature.json")
    assert "not in this clone's DVC cache" in missing[1]
