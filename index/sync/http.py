"""HTTP for the sync: timeouts, a few retries with backoff, a size cap on every body, limited redirects.

Every failure becomes a `FetchError` whose message is a short reason ("HTTP 500 after 3 tries"), so the caller
can name the paper in front of it and report one line.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx
from pydantic import BaseModel

from index.sync.models import HttpConfig

Sink = Callable[[bytes], object]
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A URL that could not be fetched; the message is the reason, on one line."""


class Download(BaseModel):
    """A body streamed to a file: its hash, size and what the server said it was."""

    path: Path
    sha256: str
    size: int
    content_type: str
    final_url: str


def check_url(url: str) -> str:
    """Only plain web addresses are fetched: never file:, ftp: or anything else a feed might name."""
    try:
        scheme = httpx.URL(url).scheme
    except (httpx.InvalidURL, TypeError) as error:
        raise FetchError(f"not a valid web address ({error})") from error
    if scheme not in {"http", "https"}:
        raise FetchError(f"not an http(s) address (scheme {scheme or 'missing'!r}), not fetched")
    return url


class Fetcher:
    """One connection pool for a sync; thread-safe, so papers can download side by side."""

    def __init__(self, config: HttpConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.client = httpx.Client(
            headers={"User-Agent": config.user_agent}, follow_redirects=True, max_redirects=config.max_redirects,
            timeout=httpx.Timeout(config.timeout_seconds), transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get_bytes(self, url: str) -> bytes:
        """A small response (XML) held in memory, within the size cap."""
        chunks: list[bytes] = []
        self._fetch(url, chunks.append, chunks.clear)
        return b"".join(chunks)

    def download(self, url: str, path: Path) -> Download:
        """Stream a body into `path` (emptied before every try), hashing as it goes."""
        with path.open("wb") as handle:
            sha, size, content_type, final_url = self._fetch(url, handle.write, lambda: _empty(handle))
        return Download(path=path, sha256=sha, size=size, content_type=content_type, final_url=final_url)

    def _fetch(self, url: str, sink: Sink, reset: Callable[[], object]) -> tuple[str, int, str, str]:
        check_url(url)
        tries, attempt = self.config.retries + 1, 0
        while True:
            attempt += 1
            reset()
            try:
                return self._once(url, sink)
            except _Retryable as error:
                if attempt >= tries:
                    raise FetchError(f"{error}{f' after {tries} tries' if tries > 1 else ''}") from None
            time.sleep(self.config.backoff_seconds * 2 ** (attempt - 1))

    def _once(self, url: str, sink: Sink) -> tuple[str, int, str, str]:
        deadline = time.monotonic() + self.config.download_seconds
        try:
            with self.client.stream("GET", url) as response:
                _check_status(response)
                _check_length(response, self.config.max_bytes)
                sha, size = hashlib.sha256(), 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.config.max_bytes:
                        raise FetchError(f"larger than the {self.config.max_bytes:,}-byte limit, abandoned")
                    if time.monotonic() > deadline:
                        raise _Retryable(f"download took longer than {self.config.download_seconds:g} s")
                    sha.update(chunk)
                    sink(chunk)
                return sha.hexdigest(), size, response.headers.get("content-type", ""), str(response.url)
        except httpx.TooManyRedirects:
            raise FetchError(f"redirect loop (more than {self.config.max_redirects} redirects)") from None
        except httpx.UnsupportedProtocol as error:
            raise FetchError(f"redirected to an address that is not http(s) ({error})") from None
        except httpx.TimeoutException as error:
            raise _Retryable(f"timed out ({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise _Retryable(f"connection failed ({type(error).__name__}: {' '.join(str(error).split())[:120]})") from None


class _Retryable(FetchError):
    """A failure worth another try: timeouts, dropped connections, overloaded servers."""


def _empty(handle: BinaryIO) -> None:
    handle.seek(0)
    handle.truncate()


def _check_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    if response.status_code in _RETRY_STATUSES:
        raise _Retryable(reason)
    raise FetchError(reason)


def _check_length(response: httpx.Response, cap: int) -> None:
    """A server that announces a body over the cap is refused before one byte of it is read."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"announced {int(declared):,} bytes, over the {cap:,}-byte limit, not downloaded")
