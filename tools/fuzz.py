"""Coverage-guided fuzzing of the gateway's parsers, loaders and translators with atheris.

    python tools/fuzz.py --seconds 600 --target expression    # one target, ten minutes
    python tools/fuzz.py --seconds 5                          # every target, five seconds each

Each target (tests/fuzz/targets.py) runs in its own process, one after the other, under
libFuzzer with the gateway's modules instrumented, starting from the repository's inputs of
its kind (tests/fuzz/seeds.py) and the saved corpus (tests/fuzz/corpus/<target>/). New inputs
that reach new code go to the working folder (`--workdir`, kept between runs), never to the
saved corpus. A crash is written there as crash-<sha1>; fix it, then copy the file into
tests/fuzz/corpus/<target>/ so the suite replays it on every run. Exit 1 when any target found
a crash.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_EXECS = re.compile(r"^stat::number_of_executed_units: (\d+)|^#(\d+)\s", re.M)


def _child(target: str, libfuzzer_args: list[str]) -> None:
    """Run one target under atheris (this process is the one libFuzzer drives)."""
    import atheris

    sys.path.insert(0, str(REPO))
    from tests.fuzz.targets import target as load

    with atheris.instrument_imports(include=["gateway"]):
        function = load(target)
    atheris.Setup([sys.argv[0], *libfuzzer_args], function)
    atheris.Fuzz()


def _folders(target: str, workdir: Path, repo_seeds: bool) -> list[Path]:
    """Where libFuzzer reads from: the working folder (where it also writes what it finds),
    the saved corpus, and the repository's inputs when asked for. The `all` target reads
    every target's, each input behind the byte that picks its target."""
    from tests.fuzz.seeds import write_seeds
    from tests.fuzz.targets import ALL, CORPUS, TARGETS, for_all

    found = workdir / target / "found"
    found.mkdir(parents=True, exist_ok=True)
    seeds = workdir / target / "seeds"
    if target != ALL:
        if repo_seeds:
            write_seeds(target, seeds)
        saved = [CORPUS / target] if (CORPUS / target).is_dir() else []
        return [found, *saved, *([seeds] if repo_seeds else [])]
    seeds.mkdir(parents=True, exist_ok=True)
    for name in TARGETS:
        sources = [CORPUS / name] if (CORPUS / name).is_dir() else []
        if repo_seeds:
            write_seeds(name, workdir / name / "seeds")
            sources.append(workdir / name / "seeds")
        for folder in sources:
            for path in sorted(folder.iterdir()):
                (seeds / f"{name}-{path.name}").write_bytes(for_all(name, path.read_bytes()))
    return [found, seeds]


def run_target(target: str, seconds: int, workdir: Path, *, repo_seeds: bool) -> dict[str, object]:
    """Fuzz one target for `seconds`; what it ran and found."""
    from tests.fuzz.targets import ALL, picked

    folders = _folders(target, workdir, repo_seeds)
    artifacts = workdir / target / "crashes"
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    command = [
        sys.executable,
        __file__,
        "--child",
        target,
        "--",
        f"-max_total_time={seconds}",
        "-timeout=30",  # seconds one input may take before it counts as a hang
        "-rss_limit_mb=2048",
        "-max_len=8192",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        *map(str, folders),
    ]
    started = time.monotonic()
    # The harness needs no network and no secrets; its own log is read for the numbers.
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    log = done.stdout + done.stderr
    (workdir / target / "last.log").write_text(log, encoding="utf-8")
    execs = [int(a or b) for a, b in _EXECS.findall(log)]
    written = sorted(set(artifacts.iterdir()) - before)
    # An input over 10 s is kept as slow-unit-<sha1>, to look at, but is no failure: on a
    # loaded machine an ordinary input can take that long.
    slow = [path for path in written if path.name.startswith("slow-unit-")]
    crashes = [path for path in written if path not in slow]
    if target == ALL:  # each crash also as its own target's input, ready for its corpus
        for path in list(crashes):
            name, data = picked(path.read_bytes())
            (workdir / name / "crashes").mkdir(parents=True, exist_ok=True)
            crashes.append(workdir / name / "crashes" / path.name)
            crashes[-1].write_bytes(data)
    return {
        "target": target,
        "seconds": round(time.monotonic() - started, 1),
        "executions": max(execs, default=0),
        "exit": done.returncode,
        "crashes": [str(path) for path in crashes],
        "slow": [str(path) for path in slow],
        "log": str(workdir / target / "last.log"),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        _child(args[1], args[3:])
        return 0
    sys.path.insert(0, str(REPO))
    from tests.fuzz.targets import ALL, TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument(
        "--target",
        action="append",
        choices=[*TARGETS, ALL],
        help=f"repeatable; default each in turn; {ALL}: every target in one process",
    )
    parser.add_argument("--workdir", type=Path, help="kept between runs (default: a temp folder)")
    parser.add_argument(
        "--corpus-only",
        action="store_true",
        help="start from the saved corpus only, not the repository's inputs (quicker to start)",
    )
    options = parser.parse_args(args)
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="aigw-fuzz-"))
    failed = False
    for target in options.target or list(TARGETS):
        result = run_target(target, options.seconds, workdir, repo_seeds=not options.corpus_only)
        crashed = bool(result["crashes"]) or result["exit"] != 0
        failed |= crashed
        outcome = "CRASH " + " ".join(result["crashes"]) if crashed else "ok"
        print(
            f"{target:<20} {result['seconds']:>7}s {result['executions']:>9} runs  {outcome}"
            + (f" (log {result['log']})" if crashed else "")
            + "".join(f"  slow: {path}" for path in result["slow"]),
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
