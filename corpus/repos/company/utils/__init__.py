"""Helpers shared by the DAGs of this repository."""
