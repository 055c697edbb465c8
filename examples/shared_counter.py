"""Tasks add file sizes to shared totals (a global and an attribute) while they run
concurrently: awaiting inside `total += ...` would lose updates."""

import asyncio
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
TOTAL = 0


class Stats:
    def __init__(self) -> None:
        self.bytes = 0


async def measure(path: str, stats: Stats) -> None:
    global TOTAL
    for _ in range(5):
        TOTAL += os.path.getsize(path)
        stats.bytes = stats.bytes + os.path.getsize(path)
        await asyncio.sleep(0)


async def main() -> None:
    paths = []
    for i in range(4):
        path = os.path.join(SCRATCH, f"blob{i}.bin")
        with open(path, "wb") as f:
            f.write(b"x" * (10 * (i + 1)))
        paths.append(path)
    stats = Stats()
    await asyncio.gather(*(measure(p, stats) for p in paths))
    print("total:", TOTAL, "attribute:", stats.bytes)


if __name__ == "__main__":
    asyncio.run(main())
