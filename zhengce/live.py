"""A Library that follows its index on disk, for a long-running server (zhengce serve).

Each request takes the current Library once (`with live.use() as lib:`) and answers entirely from it; a
new generation (built by the web app's uploads, or by `zhengce add/remove/edit/index` in another process)
is loaded beside it and swapped in with one assignment, so a request never mixes two generations and no
request fails during a switch. The generation a request holds stays pinned (index/store.py: a shared
flock on its folder) until the last request using it finishes; then it may be pruned.
"""
from __future__ import annotations

import sys
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from zhengce.errors import ZhengceError
from zhengce.index.store import current_generation, pin_generation, prune_generations, unpin_generation
from zhengce.library import Library, open_index
from zhengce.settings import DenseIndexConfig

POLL_SECONDS = 2.0  # how soon a generation built by the command line is served; a poll is one small file read


def pin(index) -> int | None:
    """Pin a generation on disk while it is served. A Milvus generation is not a folder here: Milvus keeps
    the previous ones behind its alias itself (DenseIndexConfig.keep_generations)."""
    return None if getattr(index, "backend", None) is not None else pin_generation(index.path)


class LiveLibrary:
    def __init__(self, library: Library, keep_generations: int = DenseIndexConfig().keep_generations):
        self._current = library
        self._keep = keep_generations
        self._lock = threading.Lock()  # guards _current, _users and _pins
        self._switching = threading.Lock()  # one load at a time (the watcher and an upload's job)
        self._users: Counter[Path] = Counter()
        self._pins = {library.index.path: pin(library.index)}
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._problem = ""

    @property
    def library(self) -> Library:
        """The current Library, for what is read once (a page's first render); requests use use()."""
        return self._current

    @property
    def generation(self) -> str:
        return self._current.index.path.name

    @contextmanager
    def use(self) -> Iterator[Library]:
        with self._lock:
            library = self._current
            path = library.index.path  # a Milvus Library may follow its alias during the request (follow_live)
            self._users[path] += 1
        try:
            yield library
        finally:
            with self._lock:
                self._users[path] -= 1
            self._release_unused()

    def refresh(self) -> bool:
        """Load the generation CURRENT names, if it is not the one served; True when it switched. A
        generation that cannot be loaded is reported and the served one kept."""
        with self._switching:
            try:
                backend = getattr(self._current.index, "backend", None)
                if backend is not None:  # Milvus: the alias, not CURRENT on disk, says which generation is live
                    if not backend.replaced():
                        return False
                elif current_generation(self._current.index_dir) == self._current.index.path:
                    return False
                index, embedder = open_index(self._current.index_dir)
            except ZhengceError as exc:
                if str(exc) != self._problem:  # once per problem, not every poll
                    print(f"zhengce: still serving {self.generation}: {exc}", file=sys.stderr, flush=True)
                self._problem = str(exc)
                return False
            self._problem = ""
            pinned = pin(index)
            with self._lock:
                self._pins[index.path] = pinned
                self._current = replace(self._current, index=index, embedder=embedder)
            self._release_unused()
            return True

    def _release_unused(self) -> None:
        with self._lock:
            unused = [p for p in self._pins if p != self._current.index.path and self._users[p] <= 0]
            for path in unused:
                unpin_generation(self._pins.pop(path))
                del self._users[path]
        if unused:
            try:
                prune_generations(self._current.index_dir, self._keep)
            except OSError:
                pass  # pruning is housekeeping; the next switch tries again

    def watch(self, every: float = POLL_SECONDS) -> "LiveLibrary":
        """Poll CURRENT in a daemon thread: a generation made by the command line is served within `every` s."""
        def loop() -> None:
            while not self._stop.wait(every):
                self.refresh()

        self._watcher = threading.Thread(target=loop, name="zhengce-index-watch", daemon=True)
        self._watcher.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._watcher:
            self._watcher.join(timeout=5)
        with self._lock:
            for fd in self._pins.values():
                unpin_generation(fd)
            self._pins.clear()
