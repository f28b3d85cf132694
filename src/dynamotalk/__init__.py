"""DynamoTalk: a real-time chat backend for AWS serverless."""

__version__ = "0.1.0"
