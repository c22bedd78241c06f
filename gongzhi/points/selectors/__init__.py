"""Reads of the points economy: `accounts` (a resident's account, earnings, stars, history), `integrity` (the
ledger check); the portals' lists add theirs beside them."""
