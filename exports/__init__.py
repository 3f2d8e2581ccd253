"""The xlsx workbooks: dashboard, assessment ranking and e-ledgers."""
