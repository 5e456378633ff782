"""Environmental credit: evidence, schemes, the points ledger, evaluations, repair, black and white lists."""
