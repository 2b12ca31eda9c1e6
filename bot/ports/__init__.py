"""Ports: the interfaces services need; store/ and github/ implement them, tests fake them.

Import from the submodule of the boundary: store, github, outbox, reports, webhooks.
"""
