"""A class whose methods block; one uses a connection bound to its thread."""
import sqlite3
import time


class Base:
    def settle(self):
        time.sleep(0.01)


class Store(Base):
    def __init__(self, path):
        self.path = path
        self.db = sqlite3.connect(":memory:")

    def size(self):
        with open(self.path) as f:
            return len(f.read())

    def count(self):
        return self.db.execute("select 1").fetchone()

    async def refresh(self):
        self.settle()
        return self.size()

    async def tally(self):
        return self.count()
