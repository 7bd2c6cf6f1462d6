"""The `aigw` command: lint, check, explain, convert, schemas, prices, run, usage, reconcile,
ledger.

Exit codes: 0 success, 1 the input has errors, 2 the command could not run. No command
prints a traceback: an internal failure becomes a diagnostic-style message and exit 2.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from gateway.common.diagnostics import DiagnosticError

EXIT_OK, EXIT_ERRORS, EXIT_FAILED = 0, 1, 2
# gateway.ledger.queries.DIMENSIONS, named here so that `aigw --help` imports no database code.
LEDGER_DIMENSIONS = "subscription, product, api, operation, model, backend, day"


def _lint(args: argparse.Namespace) -> int:
    from gateway.lint.linter import lint_paths
    from gateway.lint.output import format_json, format_text, summary

    result = lint_paths([Path(p) for p in args.paths])
    if args.format == "json":
        sys.stdout.write(format_json(result.diagnostics))
    else:
        sys.stdout.write(format_text(result.diagnostics))
        print(summary(result.diagnostics, result.files), file=sys.stderr)
    if result.failed:
        return EXIT_FAILED
    return EXIT_ERRORS if result.has_errors else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    """Lint, then reach everything gateway.yaml names with the real credentials."""
    import asyncio

    from gateway.checks.output import format_json, format_text, summary
    from gateway.checks.probe import Checked
    from gateway.checks.registry import run_checks
    from gateway.config.loader import load_gateway_config
    from gateway.lint.linter import lint_paths
    from gateway.lint.output import format_text as lint_text

    directory = Path(args.directory)
    if not (directory / "gateway.yaml").is_file():
        print(f"aigw check: {directory} has no gateway.yaml", file=sys.stderr)
        return EXIT_FAILED
    linted = lint_paths([directory])
    sys.stderr.write(lint_text(linted.diagnostics))  # warnings too; errors stop here
    if linted.failed:
        return EXIT_FAILED
    if linted.has_errors:
        print("aigw check: lint found errors; nothing was reached", file=sys.stderr)
        return EXIT_ERRORS
    config, _ = load_gateway_config(directory / "gateway.yaml")
    if config is None:  # lint passed, so this is not the input's fault
        print("aigw check: gateway.yaml did not load", file=sys.stderr)
        return EXIT_FAILED
    outcomes = asyncio.run(run_checks(Checked(config, directory), args.timeout))
    sys.stdout.write(format_json(outcomes) if args.format == "json" else format_text(outcomes))
    print(summary(outcomes), file=sys.stderr)
    return EXIT_OK if all(outcome.ok for outcome in outcomes) else EXIT_ERRORS


def _explain(args: argparse.Namespace) -> int:
    from gateway.explain import explain

    sys.stdout.write(
        explain(Path(args.directory), api=args.api, operation=args.operation, product=args.product)
    )
    return EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    from gateway.convert import convert_file

    output = convert_file(Path(args.file), to=args.to)
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    return EXIT_OK


def _schemas(args: argparse.Namespace) -> int:
    from gateway.schemas import render_schema_files

    folder = Path(args.directory)
    files = render_schema_files()
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (folder / name).is_file() or (folder / name).read_text("utf-8") != text
        ]
        for name in stale:
            print(f"{folder / name}: stale; run 'aigw schemas {folder}' to regenerate it")
        return EXIT_ERRORS if stale else EXIT_OK
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    return EXIT_OK


def _prices(args: argparse.Namespace) -> int:
    """The price table in use: the shipped rows and gateway.yaml's `pricing` over them."""
    import json

    from gateway.config.loader import load_gateway_config
    from gateway.tokens.prices import RATES, PriceTable

    config_path = Path(args.directory) / "gateway.yaml"
    extra, unpriced = [], "refuse"
    if args.directory != "." or config_path.is_file():
        config, diagnostics = load_gateway_config(config_path)
        if config is None or any(d.is_error for d in diagnostics):
            for diagnostic in diagnostics:
                print(diagnostic.format(), file=sys.stderr)
            return EXIT_ERRORS
        extra, unpriced = [row.price() for row in config.pricing], config.limits.unpriced_models
    ours = {(price.provider, price.model.lower()) for price in extra}
    rows = [
        {
            "provider": price.provider,
            "model": price.model,
            **{rate: getattr(price, rate) for rate in RATES},
            "date": price.date,
            "from": "gateway.yaml" if (price.provider, price.model.lower()) in ours else "shipped",
            "source": price.source,
        }
        for price in PriceTable(extra).rows()
    ]
    if args.json:
        for row in rows:
            row.update({rate: _number(row[rate]) for rate in RATES})
        print(json.dumps({"unpriced_models": unpriced, "prices": rows}, indent=2))
        return EXIT_OK
    header = ["provider", "model", *RATES, "date", "from"]
    cells = ([str(row[k]) if row[k] is not None else "-" for k in header] for row in rows)
    table = [header, *cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    print(
        f"\ndollars per million tokens; '-': the input or output rate applies. "
        f"limits.unpriced-models: {unpriced}"
    )
    return EXIT_OK


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


def _run(args: argparse.Namespace) -> int:
    import logging

    from gateway.load import load_gateway
    from gateway.proxy.admin_auth import EXPOSED_WITHOUT_KEY, is_loopback
    from gateway.proxy.server import serve

    # Warnings and errors print as before (Python's last-resort handler prints the message
    # alone); reloads, logged at info level, print too: one line each.
    logging.basicConfig(format="%(message)s")
    logging.getLogger("aigw.reload").setLevel(logging.INFO)
    if args.workers < 1:
        print("aigw run: --workers must be 1 or more", file=sys.stderr)
        return EXIT_FAILED
    gateway = load_gateway(Path(args.directory))
    apis = ", ".join(f"/{api.path} ({api.id})" for api in gateway.config.apis.values())
    print(f"aigw: serving {apis} on http://{args.host}:{args.port}", flush=True)
    print(f"aigw: admin listener on http://{args.admin_host}:{args.admin_port}/-/ready", flush=True)
    if not is_loopback(args.admin_host) and gateway.config.admin.admin_key is None:
        print(f"aigw: warning: {EXPOSED_WITHOUT_KEY.format(host=args.admin_host)}", flush=True)
    if args.workers > 1:
        print(f"aigw: {args.workers} worker processes share these listeners", flush=True)
    serve(gateway, args.host, args.port, args.admin_port, args.workers, args.admin_host)
    return EXIT_OK


def _ledger_of(directory: str) -> tuple[Any, Any]:
    """(gateway.yaml's configuration, the ledger's URL) for a policies directory."""
    from gateway.config.loader import load_gateway_config
    from gateway.ledger.databases import ledger_url

    root = Path(directory)
    config, diagnostics = load_gateway_config(root / "gateway.yaml")
    if config is None or any(d.is_error for d in diagnostics):
        raise DiagnosticError([d for d in diagnostics if d.is_error])
    url = ledger_url(config, root)
    if url is None:
        raise ValueError(f"{root / 'gateway.yaml'} turns the ledger off (ledger.enabled: false)")
    return config, url


def _on_ledger(url: str, work: Callable[[Any], Awaitable[Any]], create: bool = False) -> Any:
    """`work(database)` on the ledger at `url`, closed after; a database's own error (refused
    login, no such table) is told as the command's error, with the URL but no password."""
    import asyncio

    from gateway.ledger.databases import open_database
    from gateway.ledger.urls import redact

    async def run() -> Any:
        database = open_database(url, create)
        try:
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except (FileNotFoundError, ValueError):  # no SQLite ledger there; bad input: told as is
        raise
    except Exception as error:
        raise OSError(f"{redact(url)}: {type(error).__name__}: {error}") from None


def _usage(args: argparse.Namespace) -> int:
    """Totals from the ledger, grouped as --by says."""
    from gateway.ledger.output import render
    from gateway.ledger.queries import MEASURES, dimensions, moment, totals

    _, url = _ledger_of(args.directory)
    by = dimensions(args.by)
    since = moment(args.since) if args.since else None
    until = moment(args.until) if args.until else None
    rows = _on_ledger(url, lambda database: totals(database, by, since, until))
    sys.stdout.write(render(rows, [*by, *MEASURES], args.format))
    return EXIT_OK


def _reconcile(args: argparse.Namespace) -> int:
    """The ledger against a provider's export; exit 1 when they differ."""
    from gateway.ledger.exports import read_export
    from gateway.ledger.output import render
    from gateway.ledger.reconcile import reconcile

    config, url = _ledger_of(args.directory)
    exports = [read_export(Path(name).read_text(encoding="utf-8")) for name in args.exports]
    providers = {name: backend.provider for name, backend in config.backends.items()}
    compared, differences = _on_ledger(
        url, lambda database: reconcile(database, exports, providers)
    )
    columns = ["day", "model", "measure", "ledger", "provider", "difference"]
    if args.format != "text":
        sys.stdout.write(render(differences, columns, args.format))
    elif differences:
        sys.stdout.write(render(differences, columns))
    print(
        f"{compared} day and model pairs compared, {len(differences)} differences",
        file=sys.stderr if args.format != "text" else sys.stdout,
    )
    return EXIT_ERRORS if differences else EXIT_OK


def _ledger_migrate(args: argparse.Namespace) -> int:
    """Create or bring up to date the ledger's tables."""
    from gateway.ledger.schema import LATEST
    from gateway.ledger.urls import redact

    _, url = _ledger_of(args.directory)
    for migration in _on_ledger(url, lambda database: database.migrate(), create=True):
        print(f"applied {migration.version}: {migration.description}")
    print(f"{redact(url)}: the ledger's schema is at version {LATEST}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aigw", description="An AI gateway run by Azure API Management policies."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    lint = commands.add_parser("lint", help="check policy files and policies directories")
    lint.add_argument("paths", nargs="+", metavar="PATH")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.set_defaults(handler=_lint)

    check = commands.add_parser(
        "check",
        help="lint, then reach every backend, Redis store and the ledger's database with the "
        "real credentials",
    )
    check.add_argument("directory", metavar="DIR")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds per probe (default 10)"
    )
    check.set_defaults(handler=_check)

    explain = commands.add_parser("explain", help="print the effective policy after merging")
    explain.add_argument("directory", metavar="DIR")
    explain.add_argument("--api", required=True)
    explain.add_argument("--operation")
    explain.add_argument("--product")
    explain.set_defaults(handler=_explain)

    convert = commands.add_parser("convert", help="turn policy XML into YAML and back")
    convert.add_argument("file", metavar="FILE")
    convert.add_argument("--to", choices=("xml", "yaml"), help="default: the other format")
    convert.add_argument("-o", "--output", metavar="OUT")
    convert.set_defaults(handler=_convert)

    schemas = commands.add_parser("schemas", help="write XSD and JSON Schemas from the registry")
    schemas.add_argument("directory", nargs="?", default="schemas", metavar="DIR")
    schemas.add_argument("--check", action="store_true", help="fail when DIR is stale")
    schemas.set_defaults(handler=_schemas)

    prices = commands.add_parser("prices", help="print the price table in use")
    prices.add_argument("directory", nargs="?", default=".", metavar="DIR")
    prices.add_argument("--json", action="store_true", help="print JSON")
    prices.set_defaults(handler=_prices)

    run = commands.add_parser("run", help="load the policies directory and serve it")
    run.add_argument("directory", metavar="DIR")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8080)
    run.add_argument("--admin-port", type=int, default=9090)
    run.add_argument(
        "--admin-host",
        metavar="H",
        default="127.0.0.1",
        help="the admin listener's address (default: 127.0.0.1, whatever --host is); 0.0.0.0 "
        "in a container, so that the kubelet's probes and the metrics scraper reach it (set "
        "admin.key then: without one, every admin route but /-/ready answers 403)",
    )
    run.add_argument("--workers", type=int, default=1)
    run.set_defaults(handler=_run)

    usage = commands.add_parser("usage", help="print totals from the usage ledger")
    usage.add_argument("directory", metavar="DIR")
    usage.add_argument("--since", help="7d, 24h, 30m, or a UTC date (2026-12-01)")
    usage.add_argument("--until", help="as --since; default: now")
    usage.add_argument("--by", default="", help="comma-separated: " + LEDGER_DIMENSIONS)
    usage.add_argument("--format", choices=("text", "json", "csv"), default="text")
    usage.set_defaults(handler=_usage)

    reconcile = commands.add_parser(
        "reconcile", help="compare the usage ledger with a provider's usage or cost export"
    )
    reconcile.add_argument("directory", metavar="DIR")
    reconcile.add_argument("exports", nargs="+", metavar="EXPORT.csv")
    reconcile.add_argument("--format", choices=("text", "json", "csv"), default="text")
    reconcile.set_defaults(handler=_reconcile)

    ledger = commands.add_parser("ledger", help="manage the usage ledger's database")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    migrate = ledger_commands.add_parser("migrate", help="create or update the ledger's tables")
    migrate.add_argument("directory", metavar="DIR")
    migrate.set_defaults(handler=_ledger_migrate)

    from gateway.tenants.command import add_subscriptions_command

    add_subscriptions_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except DiagnosticError as error:
        for diagnostic in error.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return EXIT_ERRORS
    except (OSError, ValueError) as error:
        print(f"aigw {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # the promise: never a traceback, always a clear exit 2
        where = traceback.extract_tb(error.__traceback__)[-1]
        print(
            f"aigw {args.command}: internal error: {type(error).__name__}: {error} "
            f"(at {Path(where.filename).name}:{where.lineno}); please report it",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
