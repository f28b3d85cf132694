"""Benchmarks: each compares DynamoTalk's approach with the naive one in the same run."""
