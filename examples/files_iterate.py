"""A log scanner: loops over file lines, a comprehension, an async generator, a method."""

# blockbuster: blind (line iteration over a text file happens in C, where blockbuster does not look)

import asyncio
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
LOG = os.path.join(SCRATCH, "app.log")
with open(LOG, "w") as seed:
    for i in range(6):
        seed.write(f"{'ERROR' if i % 3 == 0 else 'INFO'} event {i}\n")


async def tail_lines(path: str):
    with open(path) as f:
        for line in f:
            yield line.rstrip("\n")


class Scanner:
    def __init__(self, path: str) -> None:
        self.path = path

    async def errors(self) -> list[str]:
        with open(self.path) as f:
            return [line.split()[-1] for line in f if line.startswith("ERROR")]

    async def count(self) -> int:
        total = 0
        with open(self.path) as f:
            for _line in f:
                total += 1
        return total


async def main() -> None:
    scanner = Scanner(LOG)
    print("errors:", await scanner.errors())
    print("count:", await scanner.count())
    async for line in tail_lines(LOG):
        if line.endswith("4"):
            print("found:", line)


if __name__ == "__main__":
    asyncio.run(main())
