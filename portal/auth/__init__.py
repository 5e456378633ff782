"""Accounts, roles, permissions, jurisdictions and enterprise bindings."""
