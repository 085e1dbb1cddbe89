"""wxframe's benchmarks: each measures a claim against a baseline run in the same process.

Run them all with ``python -m bench`` (``--smoke`` for the fast check the test suite
runs, ``--only NAME`` for some, ``--markdown FILE`` to record the tables). See
bench/RESULTS.md for the figures and the machine they come from.
"""
