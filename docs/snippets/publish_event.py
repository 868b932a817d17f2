"""Publish an event to Echo from Python 3 (standard library only). Needs ECHO_URL and ECHO_API_KEY."""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def publish_echo_event(event_type, payload, idempotency_key=None, user_id=None, echo_url=None, api_key=None):
    echo_url = echo_url or os.environ["ECHO_URL"]
    api_key = api_key or os.environ["ECHO_API_KEY"]
    # One key for every try: a retry after a lost answer returns the same event, never a second one.
    idempotency_key = idempotency_key or str(uuid.uuid4())
    body = {"eventType": event_type, "payload": payload}
    if user_id:
        body["userId"] = user_id
    request = urllib.request.Request(
        f"{echo_url}/api/v1/events",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        },
    )
    for attempt in range(1, 4):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)  # {"id": "evt_…", "eventType", "userId", "timestamp", "replayed", …}
        except urllib.error.HTTPError as error:
            problem = json.load(error)
            if error.code >= 500 and attempt < 3:
                time.sleep(0.5 * attempt)
                continue
            # application/problem+json: "errors" names each failing field, e.g. payload.total.
            fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors", []))
            raise RuntimeError(f"Echo refused the event ({error.code} {problem['title']}): {fields or problem.get('detail')}")
        except urllib.error.URLError:
            if attempt >= 3:
                raise
            time.sleep(0.5 * attempt)


# From a shell: python3 publish_event.py <eventType> '<payload JSON>' [idempotency key]
if __name__ == "__main__":
    try:
        key = sys.argv[3] if len(sys.argv) > 3 else None
        print(json.dumps(publish_echo_event(sys.argv[1], json.loads(sys.argv[2]), idempotency_key=key)))
    except RuntimeError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
