"""`aigw check DIR` reaches the ledger's database: the default SQLite file beside DIR, and
PostgreSQL with the real credentials (the machine's server, and a private one that asks for
a password), migrated or not; `ledger.enabled: false` reaches nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.checks.runs import check, lines_by_name
from tests.conftest import REPO
from tests.ledger.postgres_servers import SHARED, private_server, shared_schema
from tests.proxy.processes import free_port

RIGHT_PASSWORD = "pg-right-pw-6172"
WRONG_PASSWORD = "pg-wrong-pw-8391"


def policies(tmp_path: Path, ledger: str) -> Path:
    root = tmp_path / "pol"
    root.mkdir()
    (root / "gateway.yaml").write_text(
        f"apis:\n  chat: {{path: llm, style: openai}}\nledger: {ledger}\n"
    )
    return root


def migrate(root: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "ledger", "migrate", str(root)],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )


def ledger_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = lines_by_name(done.stdout)
    assert len(lines) == 1, done.stdout + done.stderr
    return next(iter(lines.values()))


def test_the_default_sqlite_file_beside_the_directory(tmp_path: Path) -> None:
    root = policies(tmp_path, "{flush-interval: 1}")
    file = tmp_path / "pol.ledger.sqlite"

    done = check(root)  # no file yet: its folder is writable, the gateway makes it
    assert done.returncode == 0, done.stdout + done.stderr
    line = ledger_line(done)
    assert line.startswith("ok    sqlite ledger (default)  "), line
    assert f"sqlite:///{file} (SQLite 3." in line and "not there yet" in line
    assert not file.exists()  # checking creates nothing

    migrate(root, {})
    line = ledger_line(check(root))
    assert line.startswith("ok  ") and "the ledger's schema at migration 1" in line

    file.write_text("not a database, whatever its name says\n")
    done = check(root)
    assert done.returncode == 1
    assert ledger_line(done).startswith("FAIL") and "file is not a database" in done.stdout


def test_a_sqlite_path_whose_folder_is_missing_fails(tmp_path: Path) -> None:
    root = policies(tmp_path, "{url: missing/ledger.sqlite}")
    done = check(root)
    assert done.returncode == 1
    assert f"its folder {root / 'missing'} does not exist" in ledger_line(done)


def test_postgresql_migrated_answers_with_its_version(tmp_path: Path) -> None:
    root = policies(tmp_path, '{url: "${env:LEDGER_URL}"}')
    with shared_schema() as url:
        migrate(root, {"LEDGER_URL": url})
        done = check(root, env={"LEDGER_URL": url})
    assert done.returncode == 0, done.stdout + done.stderr
    line = ledger_line(done)
    assert line.startswith("ok    database ledger.url  "), line  # a reference: read to know
    assert re.search(r"\(PostgreSQL \d+\.\d+\)", line), line
    assert "the ledger's schema at migration 1" in line
    assert "all 1 answer" in done.stderr


def test_postgresql_without_the_schema_says_to_migrate(tmp_path: Path) -> None:
    with shared_schema() as url:
        root = policies(tmp_path, f'{{url: "{url}"}}')
        done = check(root)
    assert done.returncode == 1
    line = ledger_line(done)
    assert line.startswith("FAIL  postgresql ledger.url  "), line
    assert f"the ledger's tables are missing: run 'aigw ledger migrate {root}'" in line
    assert "aigw check: 1 of 1 failed" in done.stderr


def test_postgresql_absent_database_fails(tmp_path: Path) -> None:
    with shared_schema():  # the server is there (else this skips, or fails under CI)
        absent = SHARED.rsplit("/", 1)[0] + "/aigw_no_such_database"
        done = check(policies(tmp_path, f'{{url: "{absent}"}}'))
    assert done.returncode == 1
    line = ledger_line(done)
    assert line.startswith("FAIL") and 'database "aigw_no_such_database" does not exist' in line


def test_postgresql_wrong_password_fails_and_is_never_shown(tmp_path: Path) -> None:
    port = free_port()
    with private_server(port, password=RIGHT_PASSWORD):
        wrong = f"postgresql://postgres:{WRONG_PASSWORD}@127.0.0.1:{port}/postgres"
        root = policies(tmp_path, '{url: "${env:LEDGER_URL}"}')
        refused = check(root, env={"LEDGER_URL": wrong})
        right = check(root, env={"LEDGER_URL": wrong.replace(WRONG_PASSWORD, RIGHT_PASSWORD)})
    assert refused.returncode == 1
    line = ledger_line(refused)
    assert line.startswith("FAIL") and "InvalidPasswordError" in line, line
    assert f"postgresql://postgres:***@127.0.0.1:{port}/postgres" in line
    # The right password gets in: what fails then is the schema, not the credentials.
    assert "the ledger's tables are missing" in ledger_line(right)
    for done in (refused, right):
        for secret in (WRONG_PASSWORD, RIGHT_PASSWORD):
            assert secret not in done.stdout + done.stderr


def test_a_ledger_turned_off_is_not_reached(tmp_path: Path) -> None:
    done = check(policies(tmp_path, '{enabled: false, url: "postgresql://127.0.0.1:1/x"}'))
    assert done.returncode == 0
    assert done.stdout == ""
    assert "names no backend, Redis store or database to reach" in done.stderr
