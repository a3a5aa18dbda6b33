"""gikai (議会): self-hosted sittings for town and city councils.

One import name for the whole product. The layers live in the repository's top-level folders and
are reached through this package: ``gikai.orchestrator`` (the sitting: rules, state, records),
``gikai.media`` (the SFU, stream analysis, archive media), ``gikai.signaling`` (the edges and the
wiring) and ``gikai.web`` (the browser client, served as files).
"""

__version__ = "0.1.0"
