"""Benchmarks, run by the Makefile; never collected by pytest (no test_ names)."""
