"""A disk report over files made up front, using `import os.path as osp`."""

import asyncio
import os
import os.path as osp

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
NAMES = ["alpha.txt", "beta.txt", "gamma.txt", "missing.txt"]
for index, name in enumerate(NAMES[:3], start=1):
    with open(osp.join(SCRATCH, name), "w") as out:
        out.write("x" * 10 * index)


async def describe(name: str) -> str:
    path = osp.join(SCRATCH, name)
    try:
        size = osp.getsize(path)
    except FileNotFoundError:
        return f"{name}: absent"
    return f"{name}: {size} bytes, file={osp.isfile(path)}"


async def polls_until_present(path: str, tries: int) -> int:
    waited = 0
    while not osp.exists(path) and waited < tries:
        waited += 1
        await asyncio.sleep(0.001)
    return waited


async def main() -> None:
    paths = [osp.join(SCRATCH, n) for n in NAMES]
    present = [p for p in paths if osp.exists(p)]
    print("present:", [osp.basename(p) for p in present])
    print("total bytes:", sum(osp.getsize(p) for p in present))
    print("any missing:", any(not osp.exists(p) for p in paths))
    print(f"scratch is a folder: {osp.isdir(SCRATCH)}")
    for line in await asyncio.gather(*(describe(n) for n in NAMES)):
        print(line)
    print("polls for alpha:", await polls_until_present(paths[0], 3))
    print("polls for missing:", await polls_until_present(paths[3], 3))


if __name__ == "__main__":
    asyncio.run(main())
