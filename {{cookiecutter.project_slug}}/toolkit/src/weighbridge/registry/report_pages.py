"""The report's HTML pages: the index and one model card per version.

Every value comes from tags anyone can write, so every one is escaped (``html.escape``
with quotes) and links are relative paths the report itself made. A number taken from
a manifest is shown in a cell carrying its manifest key (``data-key``): the tests read
the pages back and compare each such cell with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from . import report_figures, report_profile, svg
from . import tags as grammar
from .render import flatten

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failed, .deprecated { color: #b00020; }
.passed { color: #1b7f3b; }
.note, .empty { color: #666; font-style: italic; }
code, .hash { font-family: monospace; word-break: break-all; }
svg.chart { display: block; margin: 0.5em 0 1em; }
"""
KEY_METRICS = 4  # metrics on the index besides the gate's: the first few of evaluation
STAGE_EVENTS = (grammar.ASSIGN, grammar.UNASSIGN, grammar.DEREGISTER, grammar.DEPRECATE)


def page(title: str, body: Sequence[str], home: str = "") -> str:
    nav = f'<p><a href="{home}index.html">All versions</a></p>' if home else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{nav}<h1>{escape(title)}</h1>{''.join(body)}</body></html>\n"
    )


def card_path(model: str, version: str) -> str:
    """The card's file, relative to the report: a plain name, unique per model and version."""
    return f"cards/{safe_name(model)}/{safe_name(version)}.html"


def safe_name(text: str) -> str:
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".") or "_"
    if plain == text:
        return plain
    return f"{plain}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"  # a/b and a_b differ


def link(href: str, label: str) -> str:
    return f'<a href="{quote(href)}">{escape(label)}</a>'


def shown(value: Any, digits: int | None = None) -> str:
    """A value as text: numbers exactly (or to ``digits`` significant digits), text as is."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and digits is not None:
        return f"{value:.{digits}g}"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cell(value: Any, key: str | None = None, digits: int | None = None) -> str:
    """A table cell; a number carries its manifest key for the tests to check it."""
    if is_number(value):
        mark = f' data-key="{escape(key)}"' if key else ""
        return f'<td class="num"{mark}>{escape(shown(value, digits))}</td>'
    return f"<td>{escape(shown(value))}</td>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    """Headers are escaped here; rows are cells already made (``cell``)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    kind = f' class="{css}"' if css else ""
    return f"<table{kind}>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def key_values(node: Any, prefix: str) -> str:
    """A section of the manifest, flattened, one row per value (key, value)."""
    flat = flatten(node, prefix) if isinstance(node, dict) else {prefix: node}
    if not flat:
        return report_figures.note("none recorded")
    rows = [[f"<td><code>{escape(k)}</code></td>", cell(v, k)] for k, v in flat.items()]
    return table(["key", "value"], rows)


# --- gate -----------------------------------------------------------------------------------


def gate_of(manifest: dict) -> dict:
    gate = manifest.get("gate")
    return gate if isinstance(gate, dict) else {}


def verdict(manifest: dict) -> str:
    passed = gate_of(manifest).get("passed")
    if passed is True:
        return '<span class="passed">passed</span>'
    if passed is False:
        return '<span class="failed">failed</span>'
    return '<span class="note">no verdict</span>'


def gate_metric(manifest: dict) -> tuple[str | None, Any, str | None]:
    """(metric name, its value for this version, the value's manifest key)."""
    gate = gate_of(manifest)
    params = manifest.get("params") if isinstance(manifest.get("params"), dict) else {}
    gate_params = params.get("gate") if isinstance(params.get("gate"), dict) else {}
    name = gate.get("metric") or gate_params.get("metric")
    if is_number(gate.get("candidate")):
        return name, gate["candidate"], "gate.candidate"
    metrics = manifest.get("metrics") if isinstance(manifest.get("metrics"), dict) else {}
    for file, values in metrics.items():
        if isinstance(values, dict) and is_number(values.get(name)):
            return name, values[name], f"metrics.{file}.{name}"
    return name, None, None


# --- index ----------------------------------------------------------------------------------


def index_page(models: Sequence[Any]) -> str:
    """``models``: ``ModelReport``s (name, versions, events, deprecation)."""
    versions = sum(len(m.versions) for m in models)
    body = [f"<p>{plural(versions, 'version')} of {plural(len(models), 'model')}.</p>"]
    if not models:
        body.append(report_figures.note("no version registered yet"))
    for model in models:
        body.append(model_section(model))
    return page("Model registry", body)


def model_section(model: Any) -> str:
    parts = [f'<h2 id="{escape(safe_name(model.name))}">{escape(model.name)}</h2>']
    if model.deprecation is not None:
        event = model.deprecation
        parts.append(
            f'<p class="deprecated">Deprecated since {escape(event.created)} '
            f"(tag <code>{escape(event.tag)}</code>): {escape(event.reason or 'no reason')}</p>"
        )
    parts.append(metric_chart(model.versions))
    parts.append(versions_table(model))
    parts.append("<h3>Stage events</h3>")
    parts.append(timeline(model.events))
    return "".join(parts)


def metric_chart(versions: Sequence[Any]) -> str:
    found = [(i, v, *gate_metric(v.manifest)) for i, v in enumerate(versions)]
    found = [(i, v, name, value) for i, v, name, value, _ in found if is_number(value)]
    if not found:
        return report_figures.note("no gate metric recorded")
    names = sorted({str(name) for _, _, name, _ in found if name})
    metric = ", ".join(names) or "gate metric"
    points = [(float(i), float(value)) for i, _, _, value in found]
    ticks = [(float(i), v.version) for i, v, _, _ in found]
    failed = [gate_of(v.manifest).get("passed") is False for _, v, _, _ in found]
    title = f"{metric} across versions (red: gate failed)"
    return svg.line_chart(title, points, "version", metric, ticks, failed=failed)


def versions_table(model: Any) -> str:
    metric_keys = key_metric_keys(model.versions)
    short = [k.rpartition(".")[2] for k in metric_keys]  # "metrics.evaluation.f1": f1
    labels = short if len(set(short)) == len(short) else [k[len("metrics.") :] for k in metric_keys]
    headers = ["version", "stages", "gate", "gate metric", *labels]
    headers += ["author", "created", "status"]
    rows = []
    for version in reversed(model.versions):  # newest first
        manifest = version.manifest
        flat = flatten(manifest.get("metrics") or {}, "metrics")
        _, value, key = gate_metric(manifest)
        status = (
            '<td class="deprecated">deprecated</td>' if version.deprecated else "<td>active</td>"
        )
        rows.append(
            [
                f"<td>{link(card_path(version.model, version.version), version.version)}</td>",
                cell(", ".join(version.stages)),
                f"<td>{verdict(manifest)}</td>",
                cell(value, key, digits=4),
                *(cell(flat.get(k), k, digits=4) for k in metric_keys),
                cell(version.author),
                cell(version.created),
                status,
            ]
        )
    return table(headers, rows, "versions")


def key_metric_keys(versions: Sequence[Any]) -> list[str]:
    """The numeric metrics of the newest version, the first few (files in sorted order)."""
    if not versions:
        return []
    flat = flatten(versions[-1].manifest.get("metrics") or {}, "metrics")
    return [k for k, v in flat.items() if is_number(v) and ".gate." not in k][:KEY_METRICS]


def timeline(events: Sequence[Any]) -> str:
    rows = []
    for event in events:
        if event.action not in STAGE_EVENTS:
            continue
        what = event.details.get("action") if isinstance(event.details.get("action"), str) else None
        rows.append(
            [
                cell(event.created),
                cell(what or event.action),
                cell(event.version),
                cell(event.stage),
                cell(event.author),
                cell(event.reason),
                f"<td><code>{escape(event.tag)}</code></td>",
            ]
        )
    if not rows:
        return report_figures.note("no stage events yet")
    return table(["time", "event", "version", "stage", "by", "reason", "tag"], rows, "timeline")


# --- model card -----------------------------------------------------------------------------

SHOWN_SECTIONS = {"metrics", "params", "gate", "data", "environment", "artifact", "commit"}


CACHED_FILES = ("signature.json", "profile.json")  # shown when this clone's DVC cache has them


def card_page(
    version: Any,
    plots: dict[str, str],
    cached: dict[str, tuple] | None = None,
    events: Sequence[Any] = (),
) -> str:
    """One version's card; ``plots``: plot file name -> CSV text at the version's commit;
    ``cached``: file name -> (its JSON, or None and why not) from the DVC cache;
    ``events``: the model's events, for where the version stands now."""
    cached = cached or {}
    m = version.manifest
    status = "deprecated" if version.deprecated else "active"
    facts = [
        ["model", version.model],
        ["version", version.version],
        ["stages", ", ".join(version.stages) or "-"],
        ["status", status],
        ["author", f"{version.author} <{version.author_email}>"],
        ["created", version.created],
        ["commit", version.commit],
        ["tag", version.tag],
    ]
    body = [table([], [[cell(k), cell(v)] for k, v in facts], "facts")]
    body += ["<h2>Where it stands now</h2>", standing_section(version, events)]
    body += [f"<h2>Gate verdict at registration: {verdict(m)}</h2>", gate_section(m)]
    body += ["<h2>Metrics</h2>", key_values(m.get("metrics") or {}, "metrics")]
    body += ["<h2>Plots</h2>", plots_section(plots)]
    body += ["<h2>Parameters</h2>", key_values(m.get("params") or {}, "params")]
    body += ["<h2>Data</h2>", data_section(m.get("data"), cached.get("profile.json"))]
    body += ["<h2>Model files and signature</h2>", artifact_section(m.get("artifact"))]
    body.append(signature_section(cached.get("signature.json")))
    body += ["<h2>Environment</h2>", key_values(m.get("environment") or {}, "environment")]
    others = {k: v for k, v in m.items() if k not in SHOWN_SECTIONS}
    body += ["<h2>Other manifest fields</h2>", key_values(others, "")]
    return page(f"{version.model} {version.version}", body, home="../../")


def standing_section(version: Any, events: Sequence[Any]) -> str:
    """The stages the version holds now, each since when, by whom and why (the event that
    put it there), apart from the verdict recorded when it was registered: that verdict
    says what production was then, not now."""
    if not version.stages:
        status = "deprecated" if version.deprecated else "registered"
        return f"<p>in no stage now ({status})</p>"
    rows = []
    for stage in version.stages:
        entry = last_assignment(version, stage, events)
        what = entry.details.get("action") if entry is not None else None
        rows.append(
            [
                cell(stage),
                cell(entry.created if entry else None),
                cell(entry.author if entry else None),
                cell(what if isinstance(what, str) else "assign"),
                cell(entry.reason if entry else None),
            ]
        )
    return table(["stage", "since", "by", "how", "why"], rows, "standing")


def last_assignment(version: Any, stage: str, events: Sequence[Any]) -> Any:
    """The latest tag that put ``version`` into ``stage`` (None if the events lack it)."""
    found = [
        event
        for event in events
        if event.action == grammar.ASSIGN
        and event.stage == stage
        and event.version == version.version
    ]
    return found[-1] if found else None


def gate_section(manifest: dict) -> str:
    gate = gate_of(manifest)
    if not gate:
        return report_figures.note("the manifest records no gate verdict")
    parts = [f"<p>{escape(str(gate.get('summary', '')))}</p>"]
    numbers = {k: v for k, v in gate.items() if k not in ("summary", "checks")}
    parts.append(key_values(numbers, "gate"))
    checks = gate.get("checks")
    if isinstance(checks, list) and checks:
        keys = list(dict.fromkeys(k for c in checks if isinstance(c, dict) for k in c))
        rows = [
            [cell(c.get(k), f"gate.checks.{i}.{k}") for k in keys]
            for i, c in enumerate(checks)
            if isinstance(c, dict)
        ]
        parts += ["<h3>Checks</h3>", table(keys, rows)]
    return "".join(parts)


def plots_section(plots: dict[str, str]) -> str:
    if not plots:
        return report_figures.note("no plots/*.csv at this version's commit")
    return "".join(report_figures.plot_html(name, text) for name, text in sorted(plots.items()))


def data_section(data: Any, profile_file: tuple | None) -> str:
    """Data hashes, the manifest's profile summary and the whole profile.json (when this
    clone's DVC cache has it)."""
    data = data if isinstance(data, dict) else {}
    hashes = {k: v for k, v in data.items() if k != "profile"}
    rows = [[f"<td><code>{escape(k)}</code></td>", cell(v)] for k, v in sorted(hashes.items())]
    parts = [table(["path", "md5"], rows) if rows else report_figures.note("no data hashes")]
    parts.append("<h3>Training-data profile</h3>")
    summary = data.get("profile")
    if summary is None:  # trained before profiles existed
        return "".join([*parts, report_profile.profile_html(None)])
    profile, problem = profile_file if profile_file is not None else (None, None)
    parts += [key_values(summary, "data.profile"), report_profile.profile_html(profile, problem)]
    return "".join(parts)


def signature_section(found: tuple | None) -> str:
    """The model's inputs and output, from its signature.json (when the cache has it)."""
    signature, problem = found if found is not None else (None, "signature.json not read")
    if not isinstance(signature, dict):
        return report_figures.note(f"signature: {problem or 'not a JSON object'}")
    inputs = signature.get("inputs") if isinstance(signature.get("inputs"), list) else []
    keys = ["name", "dtype", "nullable", "categories"]
    rows = [[cell(i.get(k)) for k in keys] for i in inputs if isinstance(i, dict)]
    output = signature.get("output") if isinstance(signature.get("output"), dict) else {}
    described = ", ".join(f"{k}: {shown(v)}" for k, v in output.items())
    return (
        f"<h3>Signature: {len(rows)} inputs</h3>{table(keys, rows)}"
        f"<p>output: {escape(described or '-')}</p>"
    )


def artifact_section(artifact: Any) -> str:
    if not isinstance(artifact, dict):
        return report_figures.note("no model files recorded")
    files = artifact.get("files") if isinstance(artifact.get("files"), dict) else {}
    rows = [
        [
            f"<td><code>{escape(name)}</code></td>",
            f'<td class="hash">{escape(shown(meta.get("sha256")))}</td>',
            cell(meta.get("bytes"), f"artifact.files.{name}.bytes"),
        ]
        for name, meta in sorted(files.items())
        if isinstance(meta, dict)
    ]
    where = f"{shown(artifact.get('path'))} (DVC md5 {shown(artifact.get('md5'))})"
    head = f"<p>{escape(where)}</p>"
    return head + table(["file", "sha256", "bytes"], rows)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
