"""The ``registry`` command line (also ``python -m <package>.registry``).

Reading commands (list, show, history, query, diff) import only the standard
library and this package's read modules: one ``git for-each-ref`` per run. (``diff``
of two versions with training-data profiles also reads them through DVC.)

Plug-in commands (``deploy``, ``verify``, ``gc``, ``check``, ``drift``) live in their own
modules, imported only when that command runs. Such a module provides ``configure(parser)``
to add its arguments and ``run(args) -> int | None`` (print its own output, raise
``RegistryError`` or ``ProjectError`` on failure, return a non-zero exit status for a
verdict such as drift); ``args`` also carries ``repo`` (Path), ``model`` and ``json`` from
the shared options.
"""

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..errors import ProjectError
from ..project import only_model
from ..psi import THRESHOLD as PSI_THRESHOLD
from . import lineage, render
from .errors import RegistryError
from .semver import SemVer
from .store import Registry, load_registry

PLUGIN_COMMANDS = {
    "deploy": "fetch one version's model files from the DVC remote, verify sha256, install",
    "verify": "rebuild a version from a fresh clone and compare weight hashes",
    "gc": "free DVC cache and remote space, keeping every registered version's weights",
    "check": "the gate's verdict for HEAD against the version in production now (exit 1: rejected)",
    "report": "write the registry as a static HTML site (index, one model card per version)",
    "drift": "score a batch of live rows against a version's training-data profile (PSI; "
    "exit 1: drift, 2: cannot score)",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage problem is one ``error: …`` line like every other error."""

    usage_status = 1  # a command may set its own (registry drift: 2, as 1 means drift)

    def error(self, message: str) -> NoReturn:
        problem = RegistryError(f"{self.prog}: {message}")
        problem.exit_status = self.usage_status
        raise problem


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(argv).parse_args(argv)
        args.repo = Path(args.repo).resolve()
        if args.model is None and not getattr(args, "source_repo", None):
            from .models import project_model  # dataclasses: not for --model reads

            # deploy --repo: the model is the one the tags it reads hold, not this folder's
            args.model = project_model(args.repo)
        if args.model is None and args.command != "deploy":  # deploy: from the tags it reads
            args.model = only_model(load_registry(args.repo).models(), str(args.repo))
        status = args.handler(args)  # a verdict may set it (check: raises; drift: returns 1)
    except ProjectError as exc:
        # printable: an error may quote a tag or a git server, and is always one line
        print(f"error: {render.one_line(str(exc))}", file=sys.stderr)
        return getattr(exc, "exit_status", 1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into `head`: stop quietly, like other command-line tools
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    return status or 0


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = OneLineParser(prog="registry", description="Model registry on git tags (GTO format).")
    add_shared_options(parser, default=True)
    # Also after the sub-command; no defaults there, or they would overwrite the values
    # given before it (argparse copies every sub-command attribute onto the result).
    common = argparse.ArgumentParser(add_help=False)
    add_shared_options(common, default=False)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    def command(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("register", cmd_register, "tag HEAD as a new version of the model")
    bump = sub.add_mutually_exclusive_group()
    bump.add_argument("--version", help="explicit version vX.Y.Z (default: bump the latest)")
    bump.add_argument("--bump", choices=("major", "minor", "patch"), help="part to bump")
    sub.add_argument("--push", action="store_true", help="push the new tag")
    sub.add_argument("--force", action="store_true", help="register despite the gate")
    sub.add_argument("--reason", help="why the gate is overridden (needed with --force)")

    sub = command("promote", cmd_promote, "assign a stage to a version")
    sub.add_argument("version")
    sub.add_argument("--stage", required=True)
    sub.add_argument("--reason")
    sub.add_argument("--force", action="store_true", help="override a failed gate (needs --reason)")
    sub.add_argument("--push", action="store_true")

    sub = command("rollback", cmd_rollback, "re-assign the previous (or named) version of a stage")
    sub.add_argument("--stage", required=True)
    sub.add_argument("--to", help="version to roll back to (default: the previous one)")
    sub.add_argument("--reason", required=True)
    sub.add_argument("--push", action="store_true")

    sub = command("deprecate", cmd_deprecate, "deregister a version")
    sub.add_argument("version")
    sub.add_argument("--reason", required=True)
    sub.add_argument("--push", action="store_true")

    command("list", cmd_list, "the model's versions and stages")
    sub = command("show", cmd_show, "one version's full manifest")
    sub.add_argument("ref", metavar="version|stage")
    command("history", cmd_history, "every registry event, oldest first")

    sub = command("query", cmd_query, "versions whose manifest matches an expression")
    sub.add_argument("expression", help='e.g. "accuracy > 0.9 and f1 >= 0.85"')
    sub.add_argument("--author", help="author name or email contains this")
    sub.add_argument("--since", help="registered on/after YYYY-MM-DD, or in the last Nd")
    sub.add_argument("--stage", help="only the version currently in this stage")
    sub.add_argument("--include-deprecated", action="store_true")

    sub = command("diff", cmd_diff, "params, metrics, data and environment side by side")
    sub.add_argument("a", metavar="A")
    sub.add_argument("b", metavar="B")
    sub.add_argument(
        "--threshold",
        type=psi_threshold,
        default=PSI_THRESHOLD,
        help=f"flag a feature whose PSI is above this (default {PSI_THRESHOLD:g})",
    )

    for name, help_text in PLUGIN_COMMANDS.items():
        sub = command(name, None, help_text)
        if name in argv:  # imported only when it runs: deploy may pull in dvc
            add_plugin(sub, name)
    return parser


def add_shared_options(parser: argparse.ArgumentParser, default: bool) -> None:
    """``-C``, ``--model`` and ``--json``: before the sub-command (like git) or after it."""

    def given(value: Any) -> Any:
        return value if default else argparse.SUPPRESS

    parser.add_argument(
        "-C", dest="repo", default=given("."), metavar="DIR", help="project directory"
    )
    parser.add_argument(
        "--model",
        default=given(None),
        help="model name (default: the model artifact in dvc.yaml)",
    )
    parser.add_argument(
        "--json", action="store_true", default=given(False), help="machine-readable output"
    )


def add_plugin(sub: argparse.ArgumentParser, name: str) -> None:
    try:
        module = importlib.import_module(f".{name}", __package__)
    except ImportError as exc:
        raise RegistryError(f"registry {name} is not available: {exc}") from None
    module.configure(sub)
    sub.set_defaults(handler=module.run)


def emit(args: argparse.Namespace, data: Any, human: Callable[[], str] | str) -> None:
    """Print ``data`` as JSON with --json, else the human text (built only when needed).

    JSON is printed without indentation: only then does the json module use its C
    encoder, which matters when listing 10,000 versions.
    """
    if args.json:
        print(json.dumps(data))
    else:
        print(human() if callable(human) else human)


def psi_threshold(text: str) -> float:
    """A drift threshold: a positive number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def version_arg(text: str) -> str:
    """Accept ``1.2.0`` for ``v1.2.0``."""
    return f"v{text}" if not text.startswith("v") and SemVer.is_valid(f"v{text}") else text


# write commands: imported lazily so reading never loads yaml or the pipeline


def cmd_register(args: argparse.Namespace) -> None:
    from .actions import override_reason, register

    if args.reason is not None and not args.force:
        raise RegistryError("register takes --reason only with --force (it says why)")
    override = override_reason(args.force, args.reason)
    result = register(args.repo, args.model, args.version, args.bump, args.push, override)
    emit(args, result, written(result, f"registered {result['model']} {result['version']}"))


def cmd_promote(args: argparse.Namespace) -> None:
    from .actions import promote

    version = version_arg(args.version)
    result = promote(args.repo, args.model, version, args.stage, args.reason, args.force, args.push)
    line = written(result, f"promoted {result['model']} {result['version']} to {result['stage']}")
    gate = f"\ngate: {result['gate_summary']}" if result["gate_summary"] else ""
    emit(args, result, line + gate)


def cmd_rollback(args: argparse.Namespace) -> None:
    from .actions import rollback

    to = version_arg(args.to) if args.to else None
    result = rollback(args.repo, args.model, args.stage, to, args.reason, args.push)
    change = f"{result['previous']} -> {result['version']}"
    text = f"rolled back {result['stage']} of {result['model']}: {change}"
    emit(args, result, written(result, text))


def cmd_deprecate(args: argparse.Namespace) -> None:
    from .actions import deprecate

    result = deprecate(args.repo, args.model, version_arg(args.version), args.reason, args.push)
    emit(args, result, written(result, f"deprecated {result['model']} {result['version']}"))


def written(result: dict, what: str) -> str:
    pushed = f", pushed to {result['pushed_to']}" if result.get("pushed_to") else ""
    return f"{what} (tag {result['tag']} at {result['commit'][:8]}{pushed})"


# read commands


def model_registry(args: argparse.Namespace) -> Registry:
    """The tags, once ``--model`` is known to name a model of the project."""
    registry = load_registry(args.repo)
    if args.model not in registry.models():  # only then read dvc.yaml (yaml is slow to load)
        from .models import require_known_model

        require_known_model(args.repo, args.model, registry.models())
    return registry


def cmd_list(args: argparse.Namespace) -> None:
    registry = model_registry(args)
    versions = registry.versions(args.model)
    latest = registry.latest(args.model)
    stages = {stage: v.version for stage, v in registry.stages(args.model).items()}
    data = {
        "model": args.model,
        "latest": latest.version if latest else None,
        "stages": stages,
        "versions": [v.to_dict() for v in versions],
    }
    deprecation = registry.deprecation(args.model)  # the whole model (gto deprecate MODEL)
    data["deprecated"] = deprecation and {"tag": deprecation.tag, "at": deprecation.created}
    state = f"DEPRECATED by {deprecation.tag} ({deprecation.created}); " if deprecation else ""
    summary = ", ".join(f"{s} {v}" for s, v in stages.items()) or "no stages"
    head = f"{args.model}: {state}latest {data['latest'] or '-'}; {summary}"
    emit(args, data, lambda: head + "\n\n" + versions_table(versions) if versions else head)


def versions_table(versions: list[Any], extra: Sequence[str] = ()) -> str:
    from .query import value_of

    headers = ["version", "created", "author", "commit", "stages", "status", *extra]
    rows = [
        [
            v.version,
            v.created,
            v.author,
            v.commit[:8],
            ", ".join(v.stages),
            "deprecated" if v.deprecated else "active",
            *(value_of(v, field) for field in extra),
        ]
        for v in versions
    ]
    return render.table(headers, rows)


def cmd_show(args: argparse.Namespace) -> None:
    registry = model_registry(args)
    version = registry.resolve(args.model, version_arg(args.ref))
    data = {**version.to_dict(), "manifest": version.manifest}
    emit(args, data, lambda: render.show_text(version.to_dict(), version.manifest))


def cmd_history(args: argparse.Namespace) -> None:
    events = model_registry(args).events(args.model)
    emit(args, [e.to_dict() for e in events], lambda: events_table(events, args.model))


def events_table(events: list, model: str) -> str:
    if not events:
        return f"{model}: no events"
    rows = [
        [
            e.to_dict()["timestamp"],
            e.action,
            e.version,
            e.stage,
            e.tag,
            e.author,
            e.message.strip().splitlines()[0] if e.message.strip() else "",
        ]
        for e in events
    ]
    return render.table(["time", "event", "version", "stage", "tag", "author", "message"], rows)


def cmd_query(args: argparse.Namespace) -> None:
    from . import query

    conditions = query.parse(args.expression)
    registry = model_registry(args)
    since = query.since_cutoff(args.since) if args.since else None
    versions = [
        v for v in registry.versions(args.model) if args.include_deprecated or not v.deprecated
    ]
    if args.stage is not None:
        used = registry.stage_names(args.model)
        if args.stage not in used:  # most likely a typo: say so rather than match nothing
            raise RegistryError(
                f"unknown stage {args.stage!r} of {args.model}: no version was ever assigned "
                f"to it (stages used: {', '.join(used) or 'none yet'})"
            )
        versions = [v for v in versions if args.stage in v.stages]
    found = query.select(versions, conditions, args.author, since)
    fields = list(dict.fromkeys(c.field for c in conditions))
    data = [{**v.to_dict(), "values": {f: query.value_of(v, f) for f in fields}} for v in found]
    emit(args, data, lambda: versions_table(found, fields) if found else "no version matches")


def cmd_diff(args: argparse.Namespace) -> None:
    registry = model_registry(args)
    a = registry.resolve(args.model, version_arg(args.a))
    b = registry.resolve(args.model, version_arg(args.b))
    rows = render.diff_rows(a.manifest, b.manifest)
    drift = lineage.diff_section(args.repo, a, b, args.threshold)
    data = {"a": a.version, "b": b.version, "rows": rows, "data_drift": drift}
    quiet = not (lineage.has_profile(a) or lineage.has_profile(b))  # both older than profiles

    def human() -> str:
        table = render.diff_table(a.version, b.version, rows)
        return table + lineage.diff_text(drift, b.version, quiet)

    emit(args, data, human)
