"""A small application across modules (UNB180) using a blocking third-party library (UNB185,
here a local stand-in for `feedparser`). Run with `python main.py`."""

import asyncio

from app.handlers import main

asyncio.run(main())
