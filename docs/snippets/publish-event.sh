#!/bin/sh
# Publish one event to your endpoints with curl. Needs ECHO_URL and ECHO_API_KEY (Settings → API keys).
# The Idempotency-Key makes a retry safe: the same key and body within 24 hours is the same event.
curl --fail-with-body --silent --show-error --retry 3 \
  -X POST "$ECHO_URL/api/v1/events" \
  -H "Authorization: Bearer $ECHO_API_KEY" \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: order-1001-created" \
  -d '{"eventType": "order.created", "payload": {"id": "ord_1001", "customer_id": "cus_42", "total": 42.5, "currency": "EUR", "items": [{"sku": "MUG-BLUE", "quantity": 2}]}}'
