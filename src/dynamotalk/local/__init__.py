"""The local stack: AWS emulation on loopback plus a gateway that speaks API Gateway's events."""
