"""Data profiles and the population stability index on synthetic frames of every dtype."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from weighbridge import profiles, psi
from weighbridge.schema import load_schema

ROWS = 2000
FEATURES = {
    "size": "float64",
    "count": "int64",
    "colour": "category",
    "ok": "bool",
    "day": "datetime",
}


def frame(seed: int = 0, rows: int = ROWS) -> pd.DataFrame:
    """One column of each in-memory dtype the data floor reads, gaps where they may be."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=rows, p=[0.5, 0.3, 0.2]).astype(object)
    colour[rng.random(rows) < 0.05] = np.nan
    ok = (rng.random(rows) < 0.7).astype("float64")
    ok[rng.random(rows) < 0.1] = np.nan
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    return pd.DataFrame(
        {
            "size": rng.normal(10.0, 2.0, rows),
            "count": rng.poisson(3, rows).astype("int64"),
            "colour": colour,
            "ok": ok,
            "day": pd.Series(days, dtype="datetime64[ns]"),
            "label": rng.choice(["yes", "no"], size=rows, p=[0.4, 0.6]).astype(object),
        }
    )


def profile_of(data: pd.DataFrame) -> dict:
    return profiles.profile(data, FEATURES, "label", "category")


def batch_psi(reference: dict, batch: pd.DataFrame) -> dict[str, float]:
    return {
        name: psi.index(psi.distribution(feature), profiles.batch_shares(batch[name], feature))
        for name, feature in reference["features"].items()
    }


def test_a_profile_describes_each_dtype_and_the_target():
    data = frame()
    found = profile_of(data)
    assert found["rows"] == ROWS and set(found["features"]) == set(FEATURES)
    size = found["features"]["size"]
    assert size["quantiles"][5] == pytest.approx(data["size"].median(), rel=1e-5)
    assert size["mean"] == pytest.approx(data["size"].mean(), rel=1e-5)
    assert sum(size["bins"]["shares"]) + size["missing"] == pytest.approx(1, abs=1e-5)
    colour = found["features"]["colour"]
    assert colour["missing"] == pytest.approx(data["colour"].isna().mean(), abs=1e-6)
    assert colour["top"]["red"] == pytest.approx((data["colour"] == "red").mean(), abs=1e-6)
    assert colour["distinct"] == 3 and colour["other"] == 0
    ok = found["features"]["ok"]
    assert set(ok["top"]) == {"false", "true"}
    assert ok["top"]["true"] == pytest.approx((data["ok"] == 1).mean(), abs=1e-6)
    day = found["features"]["day"]
    assert day["quantiles"][0] == data["day"].min().isoformat()
    assert day["quantiles"][-1] == data["day"].max().isoformat()
    assert found["target"]["name"] == "label"
    assert found["target"]["top"]["yes"] == pytest.approx((data["label"] == "yes").mean())


def test_a_profile_is_deterministic_rounded_and_small():
    first, second = profiles.to_json(profile_of(frame())), profiles.to_json(profile_of(frame()))
    assert first == second
    assert len(first) < 2500 * len(FEATURES)  # a few hundred bytes a feature, bounded
    size = json.loads(first)["features"]["size"]
    values = [size["mean"], size["std"], *size["quantiles"], *size["bins"]["edges"]]
    assert all(value == float(f"{value:.6g}") for value in values), values  # 6 significant


def test_many_categories_keep_the_top_ones_and_say_other():
    names = pd.Series([f"c{i % 50}" for i in range(1000)], dtype=object)
    found = profiles.profile(pd.DataFrame({"c": names}), {"c": "category"})["features"]["c"]
    assert len(found["top"]) == profiles.TOP and found["distinct"] == 50
    assert found["other"] == pytest.approx(30 / 50)


def test_a_sample_of_the_training_data_passes():
    reference = profile_of(frame(seed=0))
    scores = batch_psi(reference, frame(seed=1, rows=500))
    assert all(score < psi.THRESHOLD for score in scores.values()), scores


@pytest.mark.parametrize(
    ("feature", "shift"),
    [
        ("size", lambda d: d.assign(size=d["size"] + 3.0)),
        ("count", lambda d: d.assign(count=d["count"] * 3)),
        ("colour", lambda d: d.assign(colour=np.where(d.index % 2 == 0, "purple", d["colour"]))),
        ("ok", lambda d: d.assign(ok=np.where(d.index % 3 == 0, np.nan, d["ok"]))),
        ("day", lambda d: d.assign(day=d["day"] + pd.Timedelta(days=200))),
    ],
)
def test_a_shifted_feature_is_flagged_alone(feature, shift):
    reference = profile_of(frame(seed=0))
    scores = batch_psi(reference, shift(frame(seed=1, rows=500)))
    flagged = {name for name, score in scores.items() if psi.level(score) == "flagged"}
    assert flagged == {feature}, scores


def test_two_profiles_differing_in_one_feature_flag_only_that_one():
    base = frame(seed=0)
    moved = frame(seed=3).assign(size=lambda d: d["size"] * 1.5)
    rows = psi.compare(profile_of(base), profile_of(moved))
    flagged = [r["feature"] for r in rows if r["level"] == "flagged"]
    assert flagged == ["size"], rows
    same = psi.compare(profile_of(base), profile_of(base))
    assert all(r["psi"] == 0 for r in same), same


def test_a_feature_in_one_profile_only_is_unscored():
    reference = profile_of(frame())
    other = json.loads(json.dumps(reference))
    other["features"]["extra"] = other["features"].pop("size")
    rows = {r["feature"]: r for r in psi.compare(reference, other)}
    assert rows["size"]["level"] == rows["extra"]["level"] == "unscored"
    assert rows["count"]["psi"] == 0


def test_levels_follow_the_threshold():
    assert [psi.level(x) for x in (0.05, 0.1, 0.2, 0.21)] == [
        "stable",
        "moderate",
        "moderate",
        "flagged",
    ]
    assert psi.level(0.05, threshold=0.01) == "flagged"


def test_an_empty_bin_is_smoothed_not_infinite():
    assert psi.index([0.5, 0.5, 0.0], [0.5, 0.0, 0.5]) < 20
    assert psi.index([0.2, 0.8], [0.2, 0.8]) == 0


def test_train_writes_the_profile_beside_the_weights(trained):
    from weighbridge.config import ProjectPaths

    paths = ProjectPaths(trained)
    written = json.loads((paths.model_dir / profiles.PROFILE_FILE).read_text())
    schema = load_schema(paths.schema)
    train_rows = len(pd.read_parquet(paths.train_data))
    assert written["rows"] == train_rows and sorted(written["features"]) == sorted(schema.features)
    assert written["target"]["name"] == schema.target
