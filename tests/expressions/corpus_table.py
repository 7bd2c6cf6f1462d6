"""Expressions from the corpus (verbatim or nearly), each with the value APIM gives it against
tests.expressions.context_fixture's context."""

from __future__ import annotations

TABLE: list[tuple[str, object]] = [
    (
        '@((int)context.Variables["remaining-tokens"] < (int)context.Variables["low-priority-tpm-threshold"])',
        True,
    ),
    (
        '@(context.Variables.GetValueOrDefault<string>("isStream","false").Equals("true", StringComparison.OrdinalIgnoreCase))',
        True,
    ),
    ('@(context.Variables.GetValueOrDefault<JArray>("Headers-To-Remove", new JArray()).Count)', 0),
    (
        '@(((JObject)((JArray)context.Variables["routes"])[(Int32)context.Variables["routeIndex"]]).Value<string>("location"))',
        "westeurope",
    ),
    ('@(Math.Max(0, ((int)context.Variables["backend-counter"]) - 1).ToString())', "1"),
    (
        "@(context.Response != null && (context.Response.StatusCode == 429 || context.Response.StatusCode >= 500) )",
        True,
    ),
    (
        '@(context.Variables["selected-deployment-id"] + "|remaining-tokens")',
        "gpt-4o|remaining-tokens",
    ),
    ('@(((int)context.Variables["backend-counter"])+1)', 3),
    ('@(context.Subscription?.Id ?? "Portal-Admin-Sub")', "sub-1"),
    (
        '@(context.Deployment.Region.Equals("west europe", System.StringComparison.InvariantCultureIgnoreCase))',
        True,
    ),
    (
        "@(string.IsNullOrEmpty(context.Subscription.Name) ? context.Subscription.Id : context.Subscription.Name)",
        "Team A",
    ),
    ('@(((int)context.Variables["remaining-tokens"]).ToString())', "500"),
    ('@("Bearer " + (string)context.Variables["accessToken"])', "Bearer abc"),
    (
        '@(!new [] { "gpt-4o", "embedding" }.Contains(context.Request.MatchedParameters["deployment-id"] ?? String.Empty))',
        False,
    ),
    ('@(context.Request.Headers.ContainsKey("x-higher-limit"))', False),
    ("@(context.LastError.Reason)", "RateLimitExceeded"),
    ('@(context.Request.Headers.GetValueOrDefault("x-user-id", "N/A"))', "N/A"),
    ('@(context.Request.Headers.GetValueOrDefault("X-TIER", ""))', "gold,silver"),
    ('@(Convert.ToInt32(context.Variables["backend-counter"]) == 0)', False),
    (
        '@($"type=aad&ver=1.0&sig={context.Variables.GetValueOrDefault<string>("accessToken")}")',
        "type=aad&ver=1.0&sig=abc",
    ),
    ('@(context.Product?.Name?.ToString() ?? "Portal-Admin")', "Gold"),
    ("@(context.Response.StatusCode == 503 || context.Response.StatusCode == 429)", True),
    ('@(context.Variables.GetValueOrDefault<int>("urlId") == 0)', True),
    ('@(((IResponse)context.Variables["cosmosClientResponse"]).StatusCode == 200)', True),
    (
        '@(int.Parse((string)context.Response.Headers.GetValueOrDefault("x-ratelimit-reset-requests","-1337")))',
        12,
    ),
    (
        '@(context.Response.Body.As<JObject>(true).SelectToken("usage.total_tokens").ToObject<int>())',
        30,
    ),
    ('@((string)context.Request.Url.Query.GetValueOrDefault("api-version", ""))', "2024-10-21"),
    ("@(context.Product == null)", False),
    ('@(((JArray)context.Variables["routes"]).Count)', 2),
    ('@(context.Request.Body.As<JObject>(preserveContent: true)["model"].ToString())', "gpt-4o"),
    ('@((bool)context.Request.Body.As<JObject>(preserveContent: true)["stream"])', True),
    (
        '@(context.Request.Body.As<JObject>(preserveContent: true)["messages"].Where(m => (string)m["role"] != "system").Count())',
        1,
    ),
    (
        '@(context.Request.Headers.GetValueOrDefault("Authorization","").Split(\' \')[1].AsJwt()?.Claims.GetValueOrDefault("oid", "none"))',
        "user-42",
    ),
    ('@(context.Request.IpAddress.StartsWith("10.") ? "internal" : "external")', "internal"),
    ('@(context.Api.Id + "/" + context.Operation.Id)', "azure-openai/ChatCompletions_Create"),
    (
        "@(context.Request.Url.Path.Substring(context.Request.Url.Path.LastIndexOf('/') + 1))",
        "completions",
    ),
    ("@(context.Request.Method.ToLower())", "post"),
    ('@((context.Response.Headers.GetValueOrDefault("Retry-After", "0")).Trim())', "7"),
    ("@(7 / 2 + 7 % 3 * 2.5)", 5.5),
    (
        '@(new JObject(new JProperty("error", "busy"), new JProperty("retry", 7)).ToString(Newtonsoft.Json.Formatting.None))',
        '{"error":"busy","retry":7}',
    ),
    ('@(new JObject(new JProperty("a", 1)).ToString())', '{\n  "a": 1\n}'),
    (
        '@(string.Join(",", ((JObject)context.Variables["modelMappings"]).Properties().Select(p => p.Name)))',
        "gpt-4o,gpt-4o-mini",
    ),
    ('@(((JObject)context.Variables["modelMappings"]).Value<string>("gpt-4o-mini"))', "aoai-west"),
    ("@(true.ToString())", "True"),
    (
        '@(context.Variables.ContainsKey("tier") && (string)context.Variables["tier"] == "gold")',
        True,
    ),
    (
        '@{ var counter = (int)context.Variables["backend-counter"]; for (int i = 0; i < 3; i++) { counter += i; } return counter; }',
        5,
    ),
    (
        "@{ string[] parts = \"a,b,,c\".Split(new char[] {','}, StringSplitOptions.RemoveEmptyEntries); return parts.Length; }",
        3,
    ),
    (
        '@{ int seconds; if (!int.TryParse("42", out seconds)) { seconds = 0; } return seconds * 2; }',
        84,
    ),
    (
        '@{ var body = context.Request.Body.As<JObject>(preserveContent: true); body["max_tokens"] = 50; return body["max_tokens"].Value<int>(); }',
        50,
    ),
    (
        '@{ var total = 0; foreach (var route in (JArray)context.Variables["routes"]) { total += ((string)route["name"]).Length; } return total; }',
        8,
    ),
    ('@{ try { return ((string)context.Variables["missing"]).Length; } catch { return -1; } }', -1),
    (
        '@{ var list = new List<string> { "x", "y" }; list.Add("z"); return string.Join("|", list); }',
        "x|y|z",
    ),
    (
        '@{ JObject o = JObject.Parse("{\\"k\\": [1, 2, 3]}"); return ((JArray)o["k"]).Select(t => (int)t).Sum(); }',
        6,
    ),
    ('@(Regex.IsMatch("gpt-4o-mini", "^gpt-4o"))', True),
    ("@(TimeSpan.FromSeconds(90).TotalMinutes)", 1.5),
    ('@(Convert.ToBase64String(Encoding.UTF8.GetBytes("aigw")))', "YWlndw=="),
    ('@(((string)context.Variables["tier"]).ToUpper() == "GOLD" ? 1 : 2)', 1),
    ("@{ int Twice(int x) { return x * 2; } return Twice(21); }", 42),
    ("@{ long t = 1099511627776; return (int)(t >> 40); }", 1),
    ('@(context.Variables.GetValueOrDefault<bool>("is-weu-down"))', False),
]
