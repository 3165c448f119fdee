"""Load benchmarks of the served app (`make bench`): wrk against uvicorn on SQLite and PostgreSQL.

Figures only, not a test: see `bench.run` for what is measured and docs/architecture.md ("Benchmarks")
for why the results are reported as ratios measured in the same run.
"""
