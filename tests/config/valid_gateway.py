"""A valid gateway.yaml with backends, a pool, APIs, a product, a subscription and named values:
the loader's tests and the JSON Schema's start from it."""

VALID = """
stores:
  default: memory
backends:
  aoai-east:
    url: https://east.example.com/openai
    provider: azure-openai
    credentials: {header: {api-key: "${env:AOAI_EAST_KEY}"}}
    timeout: PT2M
    circuit-breaker:
      rules:
        - failure-condition: {count: 3, interval: PT10S, status-code-ranges: ["429", "500-599"]}
          trip-duration: PT30S
          accept-retry-after: true
  aoai-west:
    url: https://west.example.com/openai
    provider: azure-openai
  aoai-pool:
    pool:
      strategy: priority
      services:
        - {backend: aoai-east, priority: 1, weight: 3}
        - {backend: aoai-west, priority: 2}
apis:
  azure-openai:
    path: openai
    style: azure-openai
    backend: aoai-pool
  inventory:
    path: inventory
    backend: aoai-west
    operations:
      - {id: get-item, method: GET, url-template: "/items/{id}"}
products:
  starter: {apis: [azure-openai], subscription-required: true}
subscriptions:
  team-a: {scope: product/starter, primary-key: "${env:TEAM_A_KEY}"}
named-values:
  tenant: contoso
  partner-key: {value: "${file:partner.key}", secret: true}
"""
