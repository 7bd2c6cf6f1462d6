"""What statements share, kept apart from the statements: declarations, runtime pieces, and
what a statement leaves for another in the same request.

Nothing here is a statement, and nothing here imports a statement module (tests/test_layers.py
checks it): statements import support, never the reverse.
"""
