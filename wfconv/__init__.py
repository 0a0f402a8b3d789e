"""wfconv: move workflows between orchestrators and prove the move is faithful."""
__version__ = "0.1.0"
