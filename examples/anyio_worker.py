"""An anyio program (run with anyio.run): sleeps, file-system calls and a file read."""

import os
import subprocess
import sys
import time
from pathlib import Path

import anyio

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
INBOX = os.path.join(SCRATCH, "inbox")
os.makedirs(INBOX, exist_ok=True)
for name in ["b.txt", "a.txt"]:
    with open(os.path.join(INBOX, name), "w", encoding="utf-8") as seed:
        seed.write(f"message {name}\n")


async def read_message(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


async def archive(name: str) -> str:
    time.sleep(0.01)
    target = os.path.join(SCRATCH, "archive")
    os.makedirs(target, exist_ok=True)
    os.replace(os.path.join(INBOX, name), os.path.join(target, name))
    return name


async def main() -> None:
    names = sorted(os.listdir(INBOX))
    for name in names:
        print(await read_message(os.path.join(INBOX, name)))
    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(archive, name)
    child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, check=True)
    print("child said:", child.stdout.decode().strip(), "exit:", child.returncode)
    print("inbox left:", os.listdir(INBOX), "inbox exists:", Path(INBOX).exists())
    print("archived:", sorted(os.listdir(os.path.join(SCRATCH, "archive"))))


if __name__ == "__main__":
    anyio.run(main)
