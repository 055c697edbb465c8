"""A journal file opened once at start-up and written from coroutines; a temp workspace."""

import asyncio
import json
import os
import shutil
import tempfile

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")


class Journal:
    def __init__(self, path: str) -> None:
        self.path = path
        self.log = open(path, "w", encoding="utf-8")

    async def record(self, event: str, **data: int) -> None:
        self.log.write(f"{event} ")
        json.dump(data, self.log, sort_keys=True)
        self.log.write("\n")
        self.log.flush()

    async def close(self) -> None:
        self.log.close()


async def main() -> None:
    workspace = tempfile.mkdtemp(prefix="job-", dir=SCRATCH)
    print("workspace made:", os.path.basename(workspace).startswith("job-"))
    journal = Journal(os.path.join(SCRATCH, "journal.log"))
    await journal.record("start", step=1)
    await journal.record("load", rows=3, step=2)
    await journal.record("stop", step=3)
    await journal.close()
    shutil.rmtree(workspace)
    print("workspace removed:", not os.path.exists(workspace))


if __name__ == "__main__":
    asyncio.run(main())
    with open(os.path.join(SCRATCH, "journal.log"), encoding="utf-8") as f:
        print(f.read(), end="")
