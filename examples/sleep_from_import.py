"""A retrying client written as a class; it backs off with `from time import sleep`."""

import asyncio
from time import sleep


class Retrier:
    def __init__(self, attempts: int, delay: float) -> None:
        self.attempts = attempts
        self.delay = delay
        self.history: list[str] = []

    async def call(self, outcomes: list[bool]) -> str:
        for attempt, ok in enumerate(outcomes[: self.attempts], start=1):
            if ok:
                self.history.append(f"attempt {attempt}: ok")
                return f"succeeded after {attempt} attempts"
            self.history.append(f"attempt {attempt}: failed")
            sleep(self.delay * attempt)
        return "gave up"


async def main() -> None:
    retrier = Retrier(attempts=3, delay=0.01)
    print(await retrier.call([False, False, True]))
    print(await retrier.call([False, False, False, True]))
    print("\n".join(retrier.history))


if __name__ == "__main__":
    asyncio.run(main())
