"""Constants the inputs and the steps share (standard library only: measurement processes of
DuckDB and polars import this without numpy or pandas)."""

PIPELINE_AS_OF = "2025-01-01"
PIPELINE_STAGES = ("prospect", "qualification", "proposal", "negotiation")
SIM_STAGES = ("prospect", "bid", "negotiation")
SCORECARD_PERIODS = 100
