"""Chapters read with `open(...).read()` inside a comprehension: the read must stay with the
comprehension variable it uses (a module-level `name` exists too, to catch a wrong rewrite)."""

import asyncio
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
name = "not-a-chapter"


async def chapters(folder: str, names: list[str]) -> list[str]:
    await asyncio.sleep(0)
    texts = [open(os.path.join(folder, name)).read() for name in names]
    await asyncio.sleep(0)
    return texts


async def main() -> None:
    names = []
    for i in range(3):
        names.append(f"ch{i}.txt")
        with open(os.path.join(SCRATCH, names[-1]), "w") as f:
            f.write(f"chapter {i}")
    print(await chapters(SCRATCH, names))


if __name__ == "__main__":
    asyncio.run(main())
