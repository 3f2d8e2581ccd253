"""Response compression: zstd, brotli or gzip, the best the client accepts, above 1 KiB.

Officers sync over weak mobile links, and a pull page of JSON shrinks about 6x. starlette-compress
negotiates `Accept-Encoding`, compresses only text media types (JSON, plain text; never workbooks,
PDFs or photos, which are compressed already), leaves partial and already-encoded responses alone
and passes WebSocket connections through untouched. Starlette's own GZipMiddleware offers gzip
alone.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette_compress import CompressMiddleware, add_compress_type

# Below this a response is sent as it is: the codec's framing would eat most of the gain.
MINIMUM_BYTES = 1024
# Level 4 (the library's default for all three) costs a 1,000-visit pull page a few
# milliseconds; higher levels gain a few percent more for several times the CPU
# (BENCHMARKS.md, bench/sync.py).
LEVEL = 4

# The GraphQL-over-HTTP media type is not in the library's list of compressible types.
add_compress_type("application/graphql-response+json")


def add_compression(app: Starlette) -> None:
    """Compresses the app's responses for clients that accept it."""
    app.add_middleware(
        CompressMiddleware,
        minimum_size=MINIMUM_BYTES,
        zstd_level=LEVEL,
        brotli_quality=LEVEL,
        gzip_level=LEVEL,
    )
