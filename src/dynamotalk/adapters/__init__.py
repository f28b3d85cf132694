"""Adapters: the ports implemented for memory (tests) and for AWS."""
