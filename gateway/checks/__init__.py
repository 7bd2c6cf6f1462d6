"""`aigw check`: after lint, reach every backend, Redis store and database gateway.yaml names,
with the real credentials, and report what answers: a gate to run before a deploy.

`probe.py` is the contract (a `Probe`, what it found) and the runner; each kind of thing to
reach has its module, and `registry.py` lists them: a new kind (the ledger's database, say)
is one module and one line there.
"""
