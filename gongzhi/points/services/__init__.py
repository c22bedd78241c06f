"""Every write of the points economy: `ledger` (the one writer of entries), `rules` (the catalogue and star
scale), `awards` (claims, direct awards and deductions, event awards, corrections), `shops` (shops and their
items), `redemptions` (hold, capture, cancel, expiry)."""
