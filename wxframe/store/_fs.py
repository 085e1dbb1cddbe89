"""Where a store's objects live: a local folder or an object-storage prefix, one interface.

:func:`resolve` turns a store's root (a path, or ``s3://bucket/prefix``) into a
:class:`Storage`: a ``pyarrow.fs`` filesystem (``LocalFileSystem`` or ``S3FileSystem``)
and the few operations the store needs of it (read, write whole, list, delete, move, a
put only where nothing is). Every store module does its I/O through it, so that one code
path writes a local disk and object storage.

Object storage has no rename: every object the store writes is written whole, in one
PUT, which is atomic (a reader sees the old object or the new one). On a local disk the
same write goes to a temporary name, is flushed and renamed (atomic there too).

The endpoint, region and addressing style come from keyword options or the standard
environment variables (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, ``AWS_REGION``,
``AWS_DEFAULT_REGION``, ``WXFRAME_S3_ADDRESSING=virtual`` for Aliyun OSS); credentials
only from the SDK's usual chain (``AWS_ACCESS_KEY_ID`` ..., ``~/.aws/credentials``,
instance roles), never from a URL and never written, shown or logged by wxframe.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from wxframe.errors import ConfigurationError, StoreError, StoreUnreachableError

__all__ = ["S3Options", "Storage", "is_url", "resolve"]

#: The environment variables an S3 endpoint is taken from, first found first.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
ADDRESSING_VARIABLE = "WXFRAME_S3_ADDRESSING"
ADDRESSING = ("path", "virtual")


def is_url(root: object) -> bool:
    """Whether a store root names object storage (``s3://``) rather than a local path."""
    return isinstance(root, str) and root.lower().startswith("s3://")


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3-compatible service; each option None: from the environment.

    ``addressing``: ``"path"`` (``http://host/bucket/key``, most servers) or
    ``"virtual"`` (``http://bucket.host/key``: Aliyun OSS accepts only this).
    Credentials are not options: the SDK's chain finds them (environment variables,
    ``~/.aws``, instance roles), so that none is ever in a file wxframe writes.

    >>> S3Options(endpoint="http://127.0.0.1:9000").resolved({}).endpoint
    'http://127.0.0.1:9000'
    >>> S3Options().resolved({"WXFRAME_S3_ADDRESSING": "virtual"}).addressing
    'virtual'
    """

    endpoint: str | None = None
    region: str | None = None
    addressing: str | None = None

    def resolved(self, environ: Any = None) -> S3Options:
        """These options, the missing ones taken from ``environ`` (default os.environ)."""
        env = os.environ if environ is None else environ
        endpoint = self.endpoint or next((env[v] for v in ENDPOINT_VARIABLES if env.get(v)), None)
        region = self.region or next((env[v] for v in REGION_VARIABLES if env.get(v)), None)
        addressing = (self.addressing or env.get(ADDRESSING_VARIABLE) or "path").lower()
        if addressing not in ADDRESSING:
            raise ConfigurationError(
                f"S3 addressing {addressing!r} is not one of {', '.join(ADDRESSING)} "
                f"(option addressing= or {ADDRESSING_VARIABLE})"
            )
        return S3Options(endpoint=endpoint, region=region, addressing=addressing)


@dataclass(frozen=True)
class Storage:
    """A store's filesystem and its root: every read, write and listing of the store.

    ``root`` is a path inside ``fs``: a local :class:`~pathlib.Path`, or
    ``PurePosixPath("bucket/prefix")`` on object storage, so that the layout joins
    names the same way on both. ``url`` is how the root is shown (never with a secret).
    """

    fs: pafs.FileSystem
    root: PurePath
    url: str
    local: bool
    s3: S3Options | None = None
    _boto: list[Any] = field(default_factory=list, compare=False, repr=False)

    def __repr__(self) -> str:  # the filesystem's own repr could name what it holds
        return f"Storage({self.url!r})"

    # ---------------------------------------------------------------- paths
    def key(self, path: PurePath) -> str:
        """``path`` as the filesystem names it."""
        return str(path.absolute()) if isinstance(path, Path) else str(path)

    def show(self, path: PurePath) -> str:
        """``path`` as a message names it: a local path, or its ``s3://`` URL."""
        return str(path) if self.local else f"s3://{path}"

    # ---------------------------------------------------------------- reads
    def info(self, path: PurePath) -> pafs.FileInfo:
        try:
            return self.fs.get_file_info(self.key(path))
        except OSError as exc:
            raise self.failure("reach", path, exc) from None

    def exists(self, path: PurePath) -> bool:
        return self.info(path).type != pafs.FileType.NotFound

    def is_file(self, path: PurePath) -> bool:
        return self.info(path).type == pafs.FileType.File

    def is_dir(self, path: PurePath) -> bool:
        return self.info(path).type == pafs.FileType.Directory

    def size(self, path: PurePath) -> int:
        """The size of a file; FileNotFoundError where there is none."""
        info = self.info(path)
        if info.type != pafs.FileType.File:
            raise FileNotFoundError(self.show(path))
        return int(info.size or 0)

    def mtime(self, path: PurePath) -> datetime:
        """When a file was written (aware)."""
        info = self.info(path)
        if info.mtime is None:
            raise FileNotFoundError(self.show(path))
        return info.mtime

    def read_bytes(self, path: PurePath) -> bytes:
        """A whole file; FileNotFoundError where there is none."""
        try:
            with self.fs.open_input_file(self.key(path)) as f:
                return f.read()
        except FileNotFoundError:
            raise
        except OSError as exc:
            if not self.local and _UNANSWERED.search(str(exc)):  # never read as damage
                raise self.failure("read", path, exc) from None
            if self.info(path).type == pafs.FileType.NotFound:
                raise FileNotFoundError(self.show(path)) from None
            raise

    def sha256(self, path: PurePath) -> str:
        return hashlib.sha256(self.read_bytes(path)).hexdigest()

    def listdir(self, path: PurePath) -> list[PurePath]:
        """The entries of a folder (none where it is not one)."""
        selector = pafs.FileSelector(self.key(path), allow_not_found=True)
        try:
            found = self.fs.get_file_info(selector)
        except (NotADirectoryError, FileNotFoundError):
            return []
        except OSError as exc:
            if self.info(path).type != pafs.FileType.Directory:
                return []
            raise StoreError(f"cannot list {self.show(path)}: {_short(exc)}") from None
        return [path / PurePosixPath(i.path).name for i in found]

    def walk(self, path: PurePath) -> Iterator[tuple[PurePath, pafs.FileInfo]]:
        """Every file under ``path``, with its info."""
        selector = pafs.FileSelector(self.key(path), allow_not_found=True, recursive=True)
        try:
            found = self.fs.get_file_info(selector)
        except (NotADirectoryError, FileNotFoundError):
            return
        base = self.key(path).rstrip("/")
        for info in found:
            if info.type == pafs.FileType.File:
                yield path / PurePosixPath(info.path[len(base) + 1 :]), info

    def glob(self, path: PurePath, pattern: str) -> list[PurePath]:
        """The entries under ``path`` matching ``pattern`` (``/``-separated, ``*`` and
        ``?`` within one name), listing only the folders the pattern reaches."""
        places = [path]
        for part in pattern.split("/"):
            if not any(c in part for c in "*?["):
                places = [p / part for p in places if self.exists(p / part)]
                continue
            places = [
                entry
                for place in places
                for entry in self.listdir(place)
                if fnmatch.fnmatchcase(entry.name, part)
            ]
        return sorted(places, key=str)

    # ---------------------------------------------------------------- writes
    def make_dirs(self, path: PurePath) -> None:
        if self.local:
            Path(self.key(path)).mkdir(parents=True, exist_ok=True)

    def write(self, path: PurePath, data: bytes) -> None:
        """Write ``data`` to ``path`` whole: a reader sees the old file or the new one.

        On object storage one PUT (atomic there); on a local disk a temporary name,
        flushed and renamed (the rename made durable too)."""
        try:
            if self.local:
                _write_local(Path(self.key(path)), data)
            else:
                # One stream, written at close: a single PUT for a small object (the
                # store's objects are; a multipart upload is atomic too, at its end).
                with self.fs.open_output_stream(self.key(path)) as out:
                    out.write(data)
        except OSError as exc:
            raise self.failure("write", path, exc) from None

    def failure(self, doing: str, path: PurePath, exc: OSError) -> StoreError:
        """What a failed ``doing`` of ``path`` is: on object storage, a service that did
        not answer (the network, throttling, a 5xx) is a StoreUnreachableError, which a
        rerun helps and which nothing reads as a damaged file; anything else (no such
        bucket, access denied, a full disk) is a StoreError to fix."""
        if not self.local and _UNANSWERED.search(str(exc)):
            return StoreUnreachableError(
                f"{self.url} did not answer ({doing} {self.show(path)}): {_short(exc)}; "
                "nothing was recorded or set aside: run again later"
            )
        return StoreError(f"cannot {doing} {self.show(path)}: {_short(exc)}")

    def delete(self, path: PurePath) -> None:
        """Remove a file; nothing where it is gone already."""
        with contextlib.suppress(FileNotFoundError):
            try:
                self.fs.delete_file(self.key(path))
            except OSError:
                if self.exists(path):
                    raise

    def move(self, path: PurePath, to: PurePath) -> None:
        """Move a file (on object storage: copy and delete; never the commit path)."""
        self.make_dirs(to.parent)
        self.fs.move(self.key(path), self.key(to))

    # ----------------------------------------------------- conditional puts
    def boto(self) -> Any | None:
        """A boto3 S3 client for this store's service (the conditional puts pyarrow does
        not offer), or None where boto3 is not installed (``wxframe[s3]``)."""
        if self.local or self.s3 is None:
            return None
        if not self._boto:
            try:
                import boto3  # type: ignore[import-untyped]
                from botocore.config import Config  # type: ignore[import-untyped]
            except ImportError:
                self._boto.append(None)
            else:
                style = "virtual" if self.s3.addressing == "virtual" else "path"
                self._boto.append(
                    boto3.client(
                        "s3",
                        endpoint_url=self.s3.endpoint,
                        region_name=self.s3.region,
                        config=Config(s3={"addressing_style": style}),
                    )
                )
        return self._boto[0]

    def bucket_key(self, path: PurePath) -> tuple[str, str]:
        bucket, _, key = str(path).partition("/")
        return bucket, key


def _write_local(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if not path.parent.is_dir():  # a stat, not a failed mkdir per level
            path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        with contextlib.suppress(OSError):  # the rename survives a power cut (POSIX)
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def resolve(root: str | os.PathLike[str], s3: S3Options | None = None) -> Storage:
    """The :class:`Storage` of a store's root: a local path, or ``s3://bucket/prefix``.

    >>> resolve("/tmp/store").local
    True
    >>> resolve("s3://team-bucket/wx", S3Options(endpoint="http://127.0.0.1:9000")).url
    's3://team-bucket/wx'
    """
    if not is_url(root):
        path = Path(root)
        return Storage(pafs.LocalFileSystem(), path, str(path), True)
    text = str(root)
    parts = urlsplit(text)
    if parts.username or parts.password or "@" in parts.netloc:
        raise ConfigurationError(
            "an s3:// store URL names a bucket and a prefix, never credentials: give them "
            "as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials)"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"s3://{parts.netloc}{parts.path}: options go in the environment "
            f"({ENDPOINT_VARIABLES[1]}, {REGION_VARIABLES[0]}, {ADDRESSING_VARIABLE}), not "
            "in the URL"
        )
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if not bucket:
        raise ConfigurationError(f"{text!r} names no bucket: s3://BUCKET/PREFIX")
    options = (s3 or S3Options()).resolved()
    kwargs: dict[str, Any] = {"allow_delayed_open": True}  # small objects: one PUT
    if options.endpoint:
        endpoint = urlsplit(options.endpoint)
        if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
            raise ConfigurationError(
                f"the S3 endpoint {options.endpoint!r} is not http(s)://HOST[:PORT]"
            )
        kwargs["endpoint_override"] = endpoint.netloc + endpoint.path.rstrip("/")
        kwargs["scheme"] = endpoint.scheme
    if options.region:
        kwargs["region"] = options.region
    if options.addressing == "virtual":
        kwargs["force_virtual_addressing"] = True
    where = PurePosixPath(bucket, prefix) if prefix else PurePosixPath(bucket)
    url = f"s3://{where}"
    try:
        fs = pafs.S3FileSystem(**kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot use {url}: {_short(exc)}") from None
    return Storage(fs, where, url, False, options)


#: What the AWS SDK (under pyarrow) says when the service did not answer, or answered
#: that it is busy: the network, timeouts, throttling, a 5xx.
_UNANSWERED = re.compile(
    r"NETWORK_CONNECTION|curlCode|REQUEST_TIMEOUT|SLOW_DOWN|THROTTL|SERVICE_UNAVAILABLE"
    r"|INTERNAL_FAILURE|Timeout was reached|Connection reset|Broken pipe|HTTP response code: 5\d\d",
    re.IGNORECASE,
)


def _short(exc: BaseException) -> str:
    """An error's first line, short (an SDK's text can run on)."""
    return " ".join(str(exc).split())[:200]
