"""Key derivation declared blocking by the project (`extra-blocking-calls` in pyproject.toml)."""

# blockbuster: blind (it watches I/O, not CPU-bound work; `unblock check` carries the proof)

import asyncio
import hashlib


async def derive(password: str, salt: str) -> str:
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20_000)
    return key.hex()[:16]


async def main() -> None:
    keys = await asyncio.gather(derive("hunter2", "a"), derive("hunter2", "b"))
    print("keys:", keys)
    print("same password, different salt:", keys[0] != keys[1])


if __name__ == "__main__":
    asyncio.run(main())
