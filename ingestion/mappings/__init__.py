"""Shipped migration mappings (YAML), a package so that they install with TalentLoop; see README.md here."""
