"""A trio program (run with trio.run): sleeps, file-system calls and a file read."""

# blockbuster: blind (it watches asyncio event loops only; the output comparison and
# `unblock check` carry the proof for trio)

import os
import subprocess
import sys
import time
from pathlib import Path

import trio

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
DATA = os.path.join(SCRATCH, "numbers.txt")
with open(DATA, "w", encoding="utf-8") as seed:
    seed.write("\n".join(str(n) for n in range(1, 6)) + "\n")


async def total(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    return sum(int(line) for line in lines)


async def snapshot(path: str) -> int:
    time.sleep(0.01)
    copy = path + ".bak"
    with open(path, encoding="utf-8") as src:
        text = src.read()
    with open(copy, "w", encoding="utf-8") as dst:
        dst.write(text)
    return os.path.getsize(copy)


async def main() -> None:
    child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, check=True)
    print("child said:", child.stdout.decode().strip(), "exit:", child.returncode)
    print("total:", await total(DATA))
    print("data size:", Path(DATA).stat().st_size)
    print("copied bytes:", await snapshot(DATA))
    print("files:", sorted(n for n in os.listdir(SCRATCH) if n.startswith("numbers")))


if __name__ == "__main__":
    trio.run(main)
