"""Helpers for the fault suite: a throwaway PostgreSQL cluster and the site's processes."""
