"""Policy expressions to test the evaluators on: the APIM corpus's, every one written in the
test suite, and hand-written ones reaching every syntax node and statement form."""

from __future__ import annotations

import ast
import re

from gateway.expressions.scan import decode_entity, scan_expressions
from tests.conftest import REPO, corpus_files

ENTITY = re.compile(r"&(?:quot|apos|lt|gt|amp|#[0-9]+|#x[0-9a-fA-F]+);")


def _expressions_in(text: str) -> list[str]:
    found = []
    for span in scan_expressions(text, xml=True):
        if span.end is not None:
            source = ENTITY.sub(lambda m: decode_entity(m.group()), text[span.start : span.end])
            found.append(re.sub(r"\{\{[\w.-]+\}\}", "value", source))
    return found


def corpus_expressions() -> list[str]:
    """Every expression of the APIM corpus (tests/data/apim-corpus), named values filled in."""
    found = []
    for path in corpus_files():
        found.extend(_expressions_in(path.read_text(encoding="utf-8")))
    return found


def suite_expressions() -> list[str]:
    """Every expression written in a string of the test suite (policies, tables, cases)."""
    found: set[str] = set()
    for path in sorted((REPO / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and ("@(" in text or "@{" in text):
                found.update(_expressions_in(text))
    return sorted(found)


# Each syntax node and statement form, and the edges where the two evaluators could part:
# scopes, jumps through try/finally and switch, out arguments, static receivers, folding.
HAND_WRITTEN = [
    "@(42)",
    '@("text")',
    "@(1.5 * 2)",
    "@(7 / 2 + 7 % 3 - (-7) / 2)",
    "@(1 / 0)",
    "@(1.0 / 0)",
    "@(5 & 3 | 8 ^ 2)",
    "@(1 << 4 >> 1)",
    "@(~5)",
    "@(+3)",
    "@(!true)",
    '@(-"x")',
    "@(true && false || !false)",
    '@(1 < 2 && "a" == "a" && 2.0 == 2 && null == null)',
    '@("a" + 1 + 2.5 + true + null)',
    "@(null ?? 5)",
    '@(context.Variables.GetValueOrDefault("missing") ?? "fallback")',
    "@(1 + null)",
    "@(true ? 1 : 2)",
    '@(1 < 2 ? "yes" : "no")',
    '@("x" ? 1 : 2)',
    "@((int)3.7)",
    '@((string)context.Variables["tier"])',
    "@((double)1 / 3)",
    '@((bool)"true")',
    '@(context.Variables["tier"] is string)',
    '@(context.Variables["routeIndex"] is int)',
    '@(context.Variables["tier"] as string)',
    '@(context.Variables["routes"] as JObject)',
    "@(typeof(string))",
    "@(default(int))",
    "@(default(bool))",
    '@($"{context.Api.Id}-{1 + 1}-{2.5:F2}")',
    '@($"{1}{2}")',
    "@(string.Empty)",
    "@(System.String.Empty)",
    '@(System.String.Concat("a", "b"))',
    '@(string.Format("{0}-{1}", 1, "b"))',
    "@(int.MaxValue)",
    "@(StringComparison.OrdinalIgnoreCase)",
    '@(int.Parse("17") + 1)',
    '@(int.NoSuchMethod("17"))',
    "@(Math.Max(1, 2, 3))",
    "@(DateTime.UtcNow.Year > 2000)",
    "@(DateTime.UtcNow)",
    "@(Guid.NewGuid().ToString().Length)",
    "@(context.Request.Method)",
    "@(context.Request.Headers)",
    "@(context.Request.Url.Host.Length)",
    "@(context.Request.Nothing)",
    '@(context.Request.Headers.GetValueOrDefault("Content-Type", "none"))',
    '@(context.Request.Headers["User-Agent"])',
    '@(context.Request.Headers["missing"])',
    '@(context.Request.Headers?["x-tier"])',
    "@(context.Response?.StatusCode)",
    "@(context.Variables?.Count)",
    '@(context.Variables["routes"][0]["name"])',
    '@(((JArray)context.Variables["routes"])[5])',
    '@(context.Request.Body.As<JObject>(preserveContent: true)["model"].ToString())',
    '@(context.Request.Body.As<JObject>()["messages"][1]["content"])',
    "@(context.Request.Body.As<string>().Substring(0, 9))",
    '@(context.Request.Url.Path.Substring(1, 6) + "/" + context.Api.Name.ToUpper())',
    '@("abc".Substring(5))',
    "@(\"a,b,c\".Split(',').Length)",
    '@("Hello".Contains("ell") && "Hello".StartsWith("H"))',
    "@(context.Variables())",
    "@(context())",
    "@(1())",
    '@(context.Request.Headers.Where(h => h.Key.StartsWith("x")).Count())',
    '@(context.Request.Headers.Any(h => h.Value.Contains("gold")))',
    "@(new[] { 3, 1, 2 }.OrderBy(x => x).First())",
    "@(new[] { 1, 2, 3 }.Select(x => x * x).Sum())",
    '@(new JObject(new JProperty("a", 1), new JProperty("b", "two")).ToString())',
    '@(new JObject { ["k"] = 1, ["j"] = "v" }["j"])',
    "@(new JArray(1, 2, 3).Count)",
    '@(new List<string> { "a", "b" }.Count)',
    '@(new Dictionary<string, int> { { "a", 1 }, { "b", 2 } }["b"])',
    "@(new int[3].Length)",
    '@(new { a = 1, b = "x" })',
    '@(new Uri("http://x"))',
    '@(int.TryParse("12", out var n) ? n + 1 : -1)',
    '@(int.TryParse("nope", out var n) ? n : -1)',
    '@(context.Variables.TryGetValue("tier", out var t) ? t : "none")',
    '@(context.Request.Headers.TryGetValue("x-tier", out var tiers) ? tiers : "none")',
    '@(context.Variables["tier"] is string s ? s.Length : 0)',
    "@{ return 1; }",
    "@{ }",
    "@{ return; }",
    "@{ var x = 1; x += 2; x *= 3; x -= 1; x /= 2; x %= 3; return x; }",
    "@{ int x = 5; x++; ++x; x--; return x-- + --x; }",
    '@{ string s = null; s ??= "set"; s ??= "again"; return s; }',
    "@{ int a, b = 2; a = b = 3; return a + b; }",
    '@{ var o = new JObject(); o["k"] = 1; o["k"] = (int)o["k"] + 1; return o.ToString(); }',
    '@{ var d = new Dictionary<string, object>(); d["a"] = 1; d.Add("b", 2); return d.Count; }',
    "@{ var l = new List<int> { 1, 2 }; l[0] = 5; l[1] += 1; return l[0] + l[1]; }",
    '@{ context.Variables["x"] = 1; return 1; }',
    '@{ context.Api.Id = "x"; return 1; }',
    "@{ y = 1; return y; }",
    "@{ int x = 1; { int y = 2; x += y; } return x; }",
    '@{ if (context.Request.Method == "POST") { return "post"; } else { return "other"; } }',
    '@{ if (context.Request.Method == "GET") return "get"; else if (true) return "else"; return "no"; }',
    "@{ if (1) { return 1; } return 2; }",
    "@{ int n = 0; for (int i = 0; i < 10; i++) { if (i == 3) continue; if (i == 7) break; n += i; } return n; }",
    "@{ int n = 0; for (;;) { n++; if (n > 4) break; } return n; }",
    "@{ int i = 0, n = 0; for (i = 0; i < 3; i++) n += i; return n + i; }",
    "@{ int n = 0; while (n < 5) { n++; } return n; }",
    "@{ int n = 0; while (true) { n++; if (n == 3) { break; } } return n; }",
    "@{ int n = 10; do { n++; } while (n < 5); return n; }",
    "@{ int n = 0; do { n++; if (n == 2) continue; } while (n < 5); return n; }",
    "@{ int n = 0; do { break; } while (true); return n; }",
    "@{ int n = 0; while (true) { n++; } return n; }",
    "@{ for (;;) { } }",
    '@{ var parts = new List<string>(); foreach (var h in context.Request.Headers) { if (h.Key == "x-tier") continue; parts.Add(h.Key); } return string.Join(",", parts); }',
    '@{ foreach (var r in (JArray)context.Variables["routes"]) { if ((string)r["location"] == "westeurope") return (string)r["name"]; } return "none"; }',
    "@{ int n = 0; foreach (var a in new[] { 1, 2, 3 }) { foreach (var b in new[] { 1, 2, 3 }) { if (b == 2) break; n += a * b; } } return n; }",
    "@{ foreach (var x in null) { } return 1; }",
    "@{ foreach (var x in 5) { } return 1; }",
    '@{ foreach (var c in "abc") { if (c == \'b\') return c; } return "none"; }',
    "@{ int Twice(int x) { return x * 2; } return Twice(Twice(3)); }",
    "@{ int F(int n) { return n <= 1 ? 1 : n * F(n - 1); } return F(6); }",
    "@{ return Later(2); int Later(int x) => x + 1; }",
    "@{ Func<int, int> f = x => x + 1; return f(1); }",
    "@{ var f = (int x, int y) => { if (x > y) { return x; } return y; }; return f(2, 9); }",
    "@{ var f = () => 7; return f(); }",
    "@{ int n = 3; var add = (int x) => x + n; n = 10; return add(1); }",
    '@{ switch (context.Request.Method) { case "GET": return 1; case "POST": return 2; default: return 3; } }',
    '@{ int n = 0; switch ("b") { case "a": n = 1; break; case "b": case "c": n = 2; break; } return n; }',
    "@{ int n = 0; switch (7) { case 1: n = 1; break; } return n; }",
    "@{ int n = 0; switch (2) { default: n = 9; break; case 2: n = 2; break; } return n; }",
    "@{ int n = 0; for (int i = 0; i < 4; i++) { switch (i) { case 1: continue; case 2: break; } n += i; } return n; }",
    '@{ try { throw new Exception("boom"); } catch (Exception e) { return e.Message; } }',
    '@{ try { return 1 / 0; } catch { return "caught"; } }',
    '@{ try { return 1; } finally { context.Variables.GetValueOrDefault("x"); } }',
    "@{ int n = 0; try { n = 1; } finally { n = 2; } return n; }",
    "@{ try { return 1; } finally { return 2; } }",
    "@{ int n = 0; for (int i = 0; i < 3; i++) { try { if (i == 1) continue; n += 10; } finally { n += 1; } } return n; }",
    '@{ try { throw new Exception("inner"); } catch (Exception e) { throw new Exception("outer " + e.Message); } }',
    "@{ try { var x = 1 / 0; } finally { } return 1; }",
    '@{ throw new Exception("plain"); }',
    "@{ throw; }",
    "@{ int n = 0; try { while (true) { n++; } } catch { } return n; }",
    "@{ break; }",
    "@{ continue; }",
    "@{ var f = (int x) => { break; }; return 1; }",
    '@{ var a = (JArray)context.Variables["routes"]; while (true) { a.Add(1); } }',
    '@{ var a = (JArray)context.Variables["routes"]; for (int i = 0; ; i++) { a.Add(i); } }',
    '@{ var a = (JArray)context.Variables["routes"]; return new[] { 1, 2, 3, 4, 5, 6, 7, 8 }.Where(x => { a.Add(x); return true; }).Count(); }',
    '@{ var a = (JArray)context.Variables["routes"]; var i = 0; while (i < 30) { a.Add(i++); } return a.Count; }',
    '@{ int x = 0; bool b = int.TryParse("5", out x); return x; }',
    '@{ int y; if (int.TryParse("8", out y)) { return y; } return -1; }',
    '@{ object o = context.Variables["tier"]; if (o is string text) { return text.ToUpper(); } return "no"; }',
    '@{ var body = context.Request.Body.As<JObject>(preserveContent: true); body["stream"] = false; return body.ToString(); }',
]
