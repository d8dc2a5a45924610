"""The decision core: pure functions of the cluster's snapshot and what a node observes (no I/O, no clock).

The verifier, `halang simulate`, the compiler and every node's engine call
these same modules; tests/runtime/test_purity.py holds every module of this
folder to the standard library's pure parts.
"""
