"""End-to-end tests use the session fixture `stack_url` from tests/conftest.py."""
