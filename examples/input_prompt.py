"""Ask questions on the terminal from a coroutine (answers come from standard input)."""

import asyncio


async def ask(question: str) -> str:
    return input(question).strip()


async def main() -> None:
    name = await ask("Name? ")
    agreed = input("Proceed? [y/N] ").strip().lower() == "yes"
    print()
    print(f"hello {name}; proceed={agreed}")


if __name__ == "__main__":
    asyncio.run(main())
