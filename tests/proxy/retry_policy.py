"""An API policy that sends every call to the backend pool `pool` and retries a 429 or a 5xx
twice, at once; `{timeout}` is forward-request's timeout in seconds. `RETRY_BACKEND` is its
backend section alone, for policies that add their own inbound statements."""

RETRY_BACKEND = """<backend>
        <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)"
            count="2" interval="0" first-fast-retry="true">
            <forward-request buffer-request-body="true" timeout="{timeout}" />
        </retry>
    </backend>"""

RETRY = f"""<policies>
    <inbound><base /><set-backend-service backend-id="pool" /></inbound>
    {RETRY_BACKEND}
</policies>"""
