"""Benchmark commands: `python -m bench NAME`, each printing its figures."""
