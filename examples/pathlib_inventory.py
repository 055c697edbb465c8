"""An inventory kept as text files, through `from pathlib import Path`."""

import asyncio
import os
from pathlib import Path

SCRATCH = Path(os.environ.get("UNBLOCK_SCRATCH", "."))


class Inventory:
    def __init__(self, root: Path) -> None:
        self.root = root / "inventory"

    async def add(self, item: str, count: int) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"{item}.txt").write_text(str(count), encoding="utf-8")

    async def count(self, item: str) -> int:
        path = self.root / f"{item}.txt"
        if not path.exists():
            return 0
        return int(path.read_text(encoding="utf-8"))

    async def remove(self, item: str) -> bool:
        path = self.root / f"{item}.txt"
        if path.is_file():
            path.unlink()
            return True
        return False


async def size_of(path: Path) -> int:
    return path.stat().st_size


async def main() -> None:
    inv = Inventory(SCRATCH)
    await inv.add("apples", 12)
    await inv.add("pears", 7)
    print("apples:", await inv.count("apples"), "plums:", await inv.count("plums"))
    print("pears file size:", await size_of(inv.root / "pears.txt"))
    print("removed pears:", await inv.remove("pears"), "again:", await inv.remove("pears"))


if __name__ == "__main__":
    asyncio.run(main())
