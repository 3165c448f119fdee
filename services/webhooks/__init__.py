"""Signed webhooks (issue 16 item 2, WH-1..WH-5): events in the transaction of their change, endpoints, the relay."""
