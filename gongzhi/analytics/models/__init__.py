"""The analytics app's tables, one module per concern (rollups, map states, …), all imported here."""
