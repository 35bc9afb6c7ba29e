"""crmcore.quota (being built; see the design's public surface)."""

__all__: list[str] = []
