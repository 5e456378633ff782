"""The Chinese working-day calendar (statutory holidays and make-up working days)."""
