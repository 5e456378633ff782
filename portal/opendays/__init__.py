"""Open days (企业开放日): enterprises publish visits to their environmental facilities; the public registers
without an account; past open days stay on the enterprise page; a held open day may earn a credit bonus."""
