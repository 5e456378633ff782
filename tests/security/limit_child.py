"""One app instance in its own process (a worker): posts to Open311 intake COUNT times and prints the status codes.

    python -m tests.security.limit_child STORAGE_URI KEY_PREFIX PATH COUNT
"""
from __future__ import annotations

import json
import sys

from portal import create_app
from portal.config import TestConfig


def main() -> None:
    storage, prefix, path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix,
                    COMPLAINT_RATE_LIMIT="3 per minute")
    app = create_app(settings)
    client = app.test_client()
    # A wrong jurisdiction is refused before the database is touched; the limit is counted first.
    codes = [client.post(path, data={"jurisdiction_id": "elsewhere.example"}).status_code for _ in range(count)]
    print(json.dumps(codes))


if __name__ == "__main__":
    main()
