"""The local stack: AWS emulation on loopback plus a gateway that speaks API Gateway's events.

The rule every module here keeps: the local stack is a stage, built from the same definitions
as the Pulumi program (routes.py, quotas.py, origins.py, userpool.py, permissions.py,
tables/), and where it differs from AWS it is at least as strict. A behaviour we cannot match
is listed, with the direction we erred, under "Deliberate deviations" in docs/LOCAL.md.
"""
