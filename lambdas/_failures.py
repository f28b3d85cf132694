"""Kept for the handlers that still import it: the failure policy lives in dynamotalk.edge."""

from dynamotalk.edge.failures import unexpected

__all__ = ["unexpected"]
