"""Shared helpers for the SDK programs: environment, a retry-free client, a tiny check runner.

The programs are run by crates/server/tests/sdk.rs against a live `tessera serve`, with TESSERA_API_URL
(e.g. http://127.0.0.1:8080, no /v1) and TESSERA_SECRET_KEY set. Each exits 0 only if every check passed.
"""

import os
import sys
import time
import traceback

from clerk_backend_api import Clerk
from clerk_backend_api.utils import BackoffStrategy, RetryConfig

# The generated client retries 5xx and connection errors for up to an hour by default: never in tests.
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1, 1), False)

WRONG_KEY = "sk_test_" + "x" * 40


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set")
    return value


API_URL = env("TESSERA_API_URL").rstrip("/")
SECRET_KEY = env("TESSERA_SECRET_KEY")


def client(secret_key: str = SECRET_KEY) -> Clerk:
    """A Python SDK client against Tessera, the way clients.md §1 says: server_url ends in /v1."""
    return Clerk(bearer_auth=secret_key, server_url=f"{API_URL}/v1", retry_config=NO_RETRIES, timeout_ms=10_000)


class Checks:
    """Runs named checks in order, prints `ok`/`FAIL` lines and a closing count; exits non-zero on failure."""

    def __init__(self) -> None:
        self.items = []

    def __call__(self, fn):
        self.items.append(fn)
        return fn

    def run(self) -> None:
        failed = 0
        for fn in self.items:
            name = (fn.__doc__ or fn.__name__).strip().splitlines()[0]
            started = time.monotonic()
            try:
                fn()
                print(f"ok - {name} ({time.monotonic() - started:.2f}s)", flush=True)
            except Exception:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL - {name}\n{traceback.format_exc()}", flush=True)
        print(f"{len(self.items) - failed} passed, {failed} failed", flush=True)
        sys.exit(1 if failed else 0)


def expect_error(fn, cls):
    """Calls fn and returns the exception it raises, which must be an instance of cls."""
    try:
        result = fn()
    except cls as e:
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"expected {cls.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {cls.__name__}, got a result: {result!r}")
