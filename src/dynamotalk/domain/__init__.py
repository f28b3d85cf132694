"""The pure domain: models, events, errors and rules. No I/O, no AWS SDK."""
