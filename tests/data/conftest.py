"""The reference-value script here needs lifetimes in a scratch environment: never collected."""

collect_ignore = ["make_lifetimes_reference.py"]
