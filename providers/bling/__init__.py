"""Bling (API v3)."""
