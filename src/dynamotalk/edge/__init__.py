"""The edge: typed views of the events a handler receives (events.py), what a handler answers
for a refusal (replies.py) and for a failure it did not expect (failures.py).

Import the module you need: `events` and `failures` are light, `replies` brings the wire (and
cattrs), which the authorizer and the Cognito triggers never need at cold start.
"""
