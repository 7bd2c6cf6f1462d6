"""Benchmark A/B: the request path of two revisions of the gateway, measured in one run.

    python bench/ab.py --old REV [--new REV] [--chains passthrough,typical,tokens-memory]
                       [--rounds 4] [--duration 5] [--warmup 1]

Shows whether a change made the gateway slower. The machine's speed moves from hour to hour,
so figures from different runs do not compare: here the old and the new code serve the same
chain in the same run and are measured in alternation (old then new, then new then old, ...
for --rounds rounds, so neither side always goes first), and the table compares their medians.

REV is any git revision of this repository; its files are written to a temporary folder
(`git archive REV | tar -x`). --new defaults to this work tree as it is, uncommitted changes
included. Both sides serve the same chain directories, the new side's bench/chains, so only
the code differs; when the old code does not accept a chain (syntax newer than it), the chain
is reported as not compared, with the old gateway's error. Each side's gateway runs as
`python -m gateway.cli run CHAIN` with PYTHONPATH and the working directory at its tree, and
the script checks beforehand that `gateway` imports from that tree there, not from an
installed copy.

Needs what bench/latency.py needs (wrk, nginx, 2 cores; Redis on 127.0.0.1:6379 for the
tokens-redis chain) and uses its helpers: nginx on 127.0.0.1:18081 returning a canned chat
completion, started once; then, one chain after the other, the old gateway on port 18100 + 4i
and the new one on 18102 + 4i (i the chain's place in --chains; admin ports one above), all
pinned to core 0. Each must respond to a POST as latency.py's checks want (200, the chain's
policies ran). Then each round measures both (old first in odd rounds, new first in even
ones), with wrk pinned to core 1: --warmup seconds at 32 connections, p50 at one connection,
then throughput at 32 connections and the server's CPU time (user + system from /proc) over
that run divided by the requests wrk counted. It prints a Markdown table (medians over the
rounds, and the change from old to new), each round's change (to judge the noise), the two
commits, and how much CPU other processes and the hypervisor took meanwhile. `--old X --new X`
(the same revision) is an A/A run: its changes are the noise. Every process it starts is
stopped and the temporary trees are removed on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import latency  # bench/latency.py: running this script puts bench/ first on sys.path
from latency import BenchError, Row, Servers, Target

REPO = latency.REPO
BASE_PORT = 18100  # chain i: old on BASE_PORT + 4i, new on BASE_PORT + 4i + 2; admin + 1
DEFAULT_CHAINS = "passthrough,typical,tokens-memory"


@dataclass(frozen=True)
class Side:
    name: str  # "old" or "new"
    label: str  # the revision as given and its commit, for the report
    tree: Path  # the code the gateway runs: a temporary folder, or this work tree

    def describe(self) -> str:
        return f"{self.name} ({self.label})"


@dataclass(frozen=True)
class Compared:
    chain: str
    old: list[Row]  # one per round
    new: list[Row]


@dataclass(frozen=True)
class Skipped:
    chain: str
    reason: str


# -- the two trees --------------------------------------------------------------------------


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


def commit_of(rev: str) -> str:
    """The commit a revision names (full id), or BenchError."""
    found = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise BenchError(f"{rev!r} is not a commit of {REPO}")
    return found.stdout.strip()


def short(commit: str) -> str:
    return git("rev-parse", "--short", commit).stdout.strip() or commit[:12]


def materialise(name: str, rev: str | None, workdir: Path) -> Side:
    """The side's code: `rev`'s files in workdir/name, or (rev None) this work tree."""
    if rev is None:
        return Side(name, f"the work tree, {latency.code_version()}", REPO)
    commit = commit_of(rev)
    tree, archive = workdir / name, workdir / f"{name}.tar"
    tree.mkdir()
    made = git("archive", "--format=tar", f"--output={archive}", commit)
    if made.returncode != 0:
        raise BenchError(f"git archive {rev} failed: {made.stderr.strip()}")
    unpacked = subprocess.run(
        ["tar", "-x", "-f", str(archive), "-C", str(tree)], capture_output=True, text=True
    )
    archive.unlink()
    if unpacked.returncode != 0:
        raise BenchError(f"tar could not unpack {rev}: {unpacked.stderr.strip()}")
    return Side(name, f"{rev} = {short(commit)}", tree)


def check_imports(side: Side) -> None:
    """Fail unless `python -m gateway...` in the side's environment runs the side's own code."""
    probe = subprocess.run(
        [sys.executable, "-c", "import gateway; print(gateway.__file__)"],
        env=latency.gateway_env(side.tree),
        cwd=side.tree,
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        raise BenchError(f"{side.describe()}: `import gateway` failed:\n{probe.stderr}")
    found = Path(probe.stdout.strip()).resolve()
    if not found.is_relative_to(side.tree.resolve()):
        raise BenchError(f"{side.describe()}: `gateway` imports from {found}, not {side.tree}")
    print(f"{side.name}: {side.label}; gateway from {found.parent}", file=sys.stderr)


# -- measuring ------------------------------------------------------------------------------


def compare(
    servers: Servers,
    sides: list[Side],
    chain: str,
    index: int,
    args: argparse.Namespace,
    notes: list[str],
) -> Compared | Skipped:
    """Serve the chain from both sides, check them, measure in alternation, stop them."""
    directory = sides[-1].tree / "bench" / "chains" / chain
    targets: list[Target] = []
    for number, side in enumerate(sides):
        port, name = chain_port(index, number), f"{side.name}-{chain}"
        latency.start_gateway(servers, name, directory, (port, port + 1), side.tree)
        targets.append(latency.gateway_target(f"{chain} ({side.name})", chain, name, port))
    try:
        for number, (side, target) in enumerate(zip(sides, targets, strict=True)):
            try:
                latency.wait_healthy(servers, target.server, chain_port(index, number))
                notes.extend(latency.verify(target))
            except BenchError as error:
                newer = " (a chain newer than its code?)" if side is not sides[-1] else ""
                reason = f"the {side.describe()} gateway does not serve it{newer}: {error}"
                print(f"bench/ab.py: {chain} not compared: {reason}", file=sys.stderr)
                return Skipped(chain, reason)
        rows: list[list[Row]] = [[] for _ in sides]
        watched: list[str] = []
        with latency.others_watched(servers, watched):
            for number in range(1, args.rounds + 1):
                turns = list(zip(sides, targets, rows, strict=True))
                if number % 2 == 0:  # new first every other round: no side always goes first
                    turns.reverse()
                for side, target, found in turns:
                    print(f"{chain}: round {number}/{args.rounds}, {side.name}", file=sys.stderr)
                    pid = servers.pid(target.server)
                    found.append(latency.measure(target, pid, args.duration, args.warmup))
                    servers.check_alive(target.server)
        notes.extend(f"{chain}: {note}" for note in watched)
        return Compared(chain, *rows)
    finally:
        servers.stop([target.server for target in targets])


def chain_port(index: int, side: int) -> int:
    """The traffic port of the chain's (index in --chains) old (side 0) or new (1) gateway."""
    return BASE_PORT + 4 * index + 2 * side


# -- report ---------------------------------------------------------------------------------


def change(old: float, new: float) -> str:
    return f"{new / old - 1:+.1%}" if old else "n/a"


def table(results: list[Compared]) -> list[str]:
    lines = [
        "| chain | old CPU ms/req | new CPU ms/req | change | old req/s | new req/s | change"
        " | old p50 | new p50 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        old, new = latency.median_row(result.old), latency.median_row(result.new)
        lines.append(
            f"| {result.chain} | {old.cpu_ms:.3f} | {new.cpu_ms:.3f}"
            f" | {change(old.cpu_ms, new.cpu_ms)} | {old.rate:,.0f} | {new.rate:,.0f}"
            f" | {change(old.rate, new.rate)} | {old.p50_ms:.3f} | {new.p50_ms:.3f} |"
        )
    return lines


def each_round(result: Compared) -> str:
    pairs = list(zip(result.old, result.new, strict=True))
    rates = ", ".join(change(old.rate, new.rate) for old, new in pairs)
    cpu = ", ".join(change(old.cpu_ms, new.cpu_ms) for old, new in pairs)
    return f"{result.chain}, each round new vs old: req/s {rates}; CPU ms/req {cpu}"


def report(
    results: list[Compared],
    skipped: list[Skipped],
    notes: list[str],
    sides: list[Side],
    args: argparse.Namespace,
    load: tuple[float, float, float],
) -> None:
    old, new = sides
    print(
        f"\n## Gateway A/B benchmark ({args.rounds} round{'s' if args.rounds > 1 else ''},"
        " old and new in alternation;"
        f" {args.duration:g} s per wrk run, {args.warmup:g} s warm-up)\n"
    )
    print("\n".join(latency.machine(load, f"old: {old.label}; new: {new.label}")))
    if results:
        print()
        print("\n".join(table(results)))
        print(
            "\nMedians over the rounds. CPU ms/req: the gateway's user + system time over the"
            f" c={latency.THROUGHPUT_CONNECTIONS} run divided by the requests wrk counted;"
            f" req/s at c={latency.THROUGHPUT_CONNECTIONS}; p50 in ms at c=1. change: new vs old"
            " (less CPU and more req/s are better).\n"
        )
    for result in results:
        print(f"- {each_round(result)}")
    for missing in skipped:
        print(f"- NOT COMPARED: {missing.chain}: {missing.reason}")
    for note in notes:
        print(f"- NOTE: {note}")


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The gateway's request path at two revisions, measured A/B in one run."
    )
    add = parser.add_argument
    add("--old", required=True, metavar="REV", help="the revision to compare against")
    add("--new", metavar="REV", help="the revision to compare (default: this work tree as is)")
    add("--chains", default=DEFAULT_CHAINS, help=f"bench/chains to run (default {DEFAULT_CHAINS})")
    add("--rounds", type=int, default=4, help="old/new measurements per chain (default 4)")
    # Whole seconds: wrk reads "1.5s" as no duration at all.
    add("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    add("--warmup", type=int, default=1, help="seconds of c=32 load before each measurement")
    args = parser.parse_args(argv)
    args.chains = [chain.strip() for chain in args.chains.split(",") if chain.strip()]
    if not args.chains:
        parser.error("--chains names no chain")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup at least 0")
    return args


def run(args: argparse.Namespace) -> bool:
    """Measure every chain; True when every one was compared."""
    latency.require_tools()
    for rev in filter(None, (args.old, args.new)):
        commit_of(rev)  # a typo fails before anything starts
    ports = [chain_port(index, side) for index in range(len(args.chains)) for side in (0, 1)]
    latency.require_free_ports([latency.NGINX_PORT, *ports, *(port + 1 for port in ports)])
    load = os.getloadavg()  # other work on the machine skews the numbers
    with (
        tempfile.TemporaryDirectory(prefix="aigw-ab-") as workdir,
        latency.stopped_on_sigterm(),
    ):
        work = Path(workdir)
        sides = [materialise("old", args.old, work), materialise("new", args.new, work)]
        chains = sides[-1].tree / "bench" / "chains"
        unknown = [chain for chain in args.chains if not (chains / chain).is_dir()]
        if unknown:
            known = ", ".join(sorted(path.name for path in chains.iterdir() if path.is_dir()))
            raise BenchError(
                f"no chain {', '.join(unknown)} in the new tree's bench/chains: {known}"
            )
        for side in sides:
            check_imports(side)
        (work / "logs").mkdir()
        servers = Servers(work / "logs")
        results: list[Compared] = []
        skipped: list[Skipped] = []
        notes: list[str] = []
        try:
            latency.start_nginx(servers)
            latency.wait_until(servers, "nginx", lambda: latency.listening(latency.NGINX_PORT))
            for index, chain in enumerate(args.chains):
                done = compare(servers, sides, chain, index, args, notes)
                (results if isinstance(done, Compared) else skipped).append(done)
        finally:
            servers.stop()
    report(results, skipped, notes, sides, args, load)
    return not skipped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        complete = run(args)
    except BenchError as error:
        print(f"bench/ab.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "bench/ab.py: interrupted; every process it started is stopped, its trees removed",
            file=sys.stderr,
        )
        return 130
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
