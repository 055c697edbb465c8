"""Speak raw HTTP/1.0 over a socket from a coroutine."""

import asyncio
import os
import socket
from urllib.parse import urlparse

BASE = urlparse(os.environ.get("UNBLOCK_HTTP", "http://127.0.0.1:8000"))


async def raw_get(path: str) -> tuple[str, str]:
    ip = socket.gethostbyname(BASE.hostname)
    conn = socket.create_connection((ip, BASE.port), timeout=5)
    conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {BASE.hostname}\r\n\r\n".encode())
    chunks = []
    chunk = conn.recv(4096)
    while chunk:
        chunks.append(chunk)
        chunk = conn.recv(4096)
    conn.close()
    head, _, body = b"".join(chunks).decode().partition("\r\n\r\n")
    return head.splitlines()[0], body


async def main() -> None:
    for path in ["/text", "/missing"]:
        status, body = await raw_get(path)
        print(f"{path}: {status} | {body.strip()}")


if __name__ == "__main__":
    asyncio.run(main())
