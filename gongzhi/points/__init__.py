"""The points economy (积分制, 道德储蓄银行, 爱心超市): a rule catalogue per township, residents' claims and
administrators' awards, an append-only double-entry ledger chained by hashes, ten-star levels, and shops that
redeem points by a signed one-time QR code."""
