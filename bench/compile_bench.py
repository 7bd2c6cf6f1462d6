"""Benchmark: load, check, merge and compile a policies directory of many API files.

    python bench/compile_bench.py [--apis 1000] [--repeat 3]

Writes a synthetic directory (one global policy, one fragment, N `style: http` APIs with
two operations each, every API file using expressions, choose and the fragment) to a temporary
folder and times `inspect_directory` on it: the work `aigw run` and `aigw lint` do at load.
The numbers go in the README's benchmark table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gateway.load import inspect_directory

API_POLICY = """<policies>
    <inbound>
        <base />
        <set-variable name="caller" value="@(context.Subscription?.Id ?? &quot;anonymous&quot;)" />
        <choose>
            <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;x-tier&quot;, &quot;&quot;) == &quot;gold&quot;)">
                <set-variable name="tier" value="gold" />
            </when>
            <otherwise>
                <include-fragment fragment-id="defaults" />
            </otherwise>
        </choose>
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
        <set-variable name="status" value="@(context.Response.StatusCode)" />
    </outbound>
</policies>
"""

GLOBAL = """<policies>
    <inbound>
        <set-variable name="started" value="@(DateTime.UtcNow.ToString())" />
    </inbound>
    <backend>
        <forward-request timeout="60" />
    </backend>
</policies>
"""

FRAGMENT = """<fragment>
    <set-variable name="tier" value="@((string)context.Variables.GetValueOrDefault(&quot;caller&quot;, &quot;basic&quot;))" />
</fragment>
"""


def write_directory(root: Path, apis: int) -> None:
    lines = [
        "backends:",
        "  upstream:",
        "    url: http://127.0.0.1:9/",
        "    provider: http",
        "apis:",
    ]
    for i in range(apis):
        lines += [
            f"  api-{i}:",
            f"    path: api-{i}",
            "    style: http",
            "    backend: upstream",
            "    operations:",
            '      - {id: get-item, method: GET, url-template: "/items/{id}"}',
            "      - {id: create-item, method: POST, url-template: /items}",
        ]
    (root / "gateway.yaml").write_text("\n".join(lines) + "\n")
    (root / "global.xml").write_text(GLOBAL)
    (root / "fragments").mkdir()
    (root / "fragments" / "defaults.xml").write_text(FRAGMENT)
    (root / "apis").mkdir()
    for i in range(apis):
        (root / "apis" / f"api-{i}.xml").write_text(API_POLICY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apis", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_directory(root, args.apis)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            inspection = inspect_directory(root, runtime_errors=False)
            timings.append(time.perf_counter() - started)
        errors = inspection.report.errors
        if errors:
            raise SystemExit("benchmark directory has errors:\n" + errors[0].format())
        print(
            f"{args.apis} API files, {len(inspection.policies)} compiled effective policies: "
            f"best {min(timings):.3f}s, median {statistics.median(timings):.3f}s "
            f"over {args.repeat} runs"
        )


if __name__ == "__main__":
    main()
