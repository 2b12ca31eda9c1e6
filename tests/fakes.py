"""Hand-written fakes of the ports, shared by all tests; each is checked against its Protocol."""

from __future__ import annotations

# Each section is owned by one area; add fakes inside your own section only.

# --- runs, history and read models (store) -------------------------------------------------

# --- GitHub (gateway) -----------------------------------------------------------------------

# --- outbox ---------------------------------------------------------------------------------

# --- objective, criteria and reports --------------------------------------------------------
