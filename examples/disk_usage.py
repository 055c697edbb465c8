"""Disk usage of a cache folder: an os.walk loop and a Path.iterdir loop with stat()."""

import asyncio
import os
from pathlib import Path

SCRATCH = Path(os.environ.get("UNBLOCK_SCRATCH", "."))
CACHE = SCRATCH / "cache"
for sub, sizes in {"a": [10, 20], "b": [5], "b/deep": [7, 1]}.items():
    (CACHE / sub).mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        (CACHE / sub / f"f{i}.bin").write_bytes(b"x" * size)


async def calculate_cache_size(cache_dir: str) -> int:
    total_size = 0
    if os.path.exists(cache_dir):
        for dirpath, _dirnames, filenames in os.walk(cache_dir):
            for filename in filenames:
                filepath = os.path.join(dirpath, filename)
                if os.path.exists(filepath):
                    total_size += os.path.getsize(filepath)
    return total_size


async def largest_entries(folder: Path, limit: int) -> list[tuple[str, int]]:
    sizes = []
    for child in folder.iterdir():
        if child.is_file():
            sizes.append((child.name, child.stat().st_size))
    sizes.sort(key=lambda pair: (-pair[1], pair[0]))
    return sizes[:limit]


async def main() -> None:
    total, missing = await asyncio.gather(
        calculate_cache_size(str(CACHE)), calculate_cache_size(str(SCRATCH / "nope"))
    )
    print("cache bytes:", total, "missing folder:", missing)
    print("largest in a:", await largest_entries(CACHE / "a", 1))


if __name__ == "__main__":
    asyncio.run(main())
