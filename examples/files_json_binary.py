"""Settings in JSON, a checksum of a binary file, and one-line reads and writes."""

import asyncio
import hashlib
import json
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
BLOB = os.path.join(SCRATCH, "blob.bin")
with open(BLOB, "wb") as seed:
    seed.write(bytes(range(256)) * 4)


async def save_settings(path: str, settings: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(settings, f, indent=2, sort_keys=True)


async def load_settings(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


async def checksum(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


async def main() -> None:
    path = os.path.join(SCRATCH, "settings.json")
    await save_settings(path, {"name": "unblock", "retries": 3})
    print("loaded:", await load_settings(path))
    print("sha256:", await checksum(BLOB))
    raw = open(path).read()
    print("raw lines:", len(raw.splitlines()))
    json.dump({"copied": True}, open(path + ".copy", "w"))
    print("copy:", open(path + ".copy").read())


if __name__ == "__main__":
    asyncio.run(main())
