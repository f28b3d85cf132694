"""The Pulumi program: one ComponentResource per concern; `pulumi up` per stage."""
