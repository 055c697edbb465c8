"""Talk to a JSON API with `import requests as rq` from coroutines."""

import asyncio
import os
import urllib.request

import requests as rq

BASE = os.environ.get("UNBLOCK_HTTP", "http://127.0.0.1:8000")


async def fetch_name() -> str:
    return rq.get(f"{BASE}/json", timeout=5).json()["name"]


async def fetch_items() -> list[int]:
    response = rq.get(f"{BASE}/json", timeout=5)
    response.raise_for_status()
    return sorted(response.json()["items"])


async def echo(payload: dict) -> dict:
    reply = rq.post(f"{BASE}/echo", json=payload, timeout=5)
    reply.raise_for_status()
    return reply.json()


async def with_session() -> tuple[str, int]:
    with rq.Session() as session:
        session.headers.update({"X-Test": "from-session"})
        seen = session.get(f"{BASE}/query", params={"s": "1"}).json()["x_test"]
        status = session.get(f"{BASE}/missing").status_code
    return seen, status


async def main() -> None:
    name, items = await asyncio.gather(fetch_name(), fetch_items())
    print("name:", name, "items:", items)
    print("echo:", await echo({"hello": "world", "n": 3}))
    query = rq.get(f"{BASE}/query", params={"b": "2", "a": "1"}, headers={"X-Test": "yes"}, timeout=5)
    print("query:", query.status_code, query.json())
    print("text:", rq.get(f"{BASE}/text", timeout=5).text.strip())
    print("followed:", rq.get(f"{BASE}/redirect", timeout=5).json()["name"])
    print("session:", await with_session())
    print("urlopen:", urllib.request.urlopen(f"{BASE}/text", timeout=5).read().decode().strip())
    print("redirected to:", rq.get(f"{BASE}/redirect", timeout=5).url.rsplit("/", 1)[-1])
    missing = rq.get(f"{BASE}/missing", timeout=5)
    print("missing:", missing.status_code, missing.ok)
    try:
        rq.get(f"{BASE}/missing", timeout=5).raise_for_status()
    except rq.exceptions.HTTPError as err:
        print("raised:", err.response.status_code)


if __name__ == "__main__":
    asyncio.run(main())
