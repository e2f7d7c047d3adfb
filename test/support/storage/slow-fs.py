#!/usr/bin/env python3
"""A read-only passthrough filesystem that adds a delay to every call, as a slow network mount
(an NFS server far away, a FUSE gateway to object storage) does. Mounted by
test/support/storage/slow-mount.ts. usage: slow-fs.py SOURCE MOUNTPOINT DELAY_MS"""
import errno
import os
import sys
import time

from fusepy import FUSE, FuseOSError, Operations


class Slow(Operations):
    def __init__(self, source, delay):
        self.source = source
        self.delay = delay

    def _path(self, path):
        time.sleep(self.delay)
        return os.path.join(self.source, path.lstrip("/"))

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._path(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        keys = ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime", "st_mtime", "st_ctime")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        try:
            return [".", ".."] + os.listdir(self._path(path))
        except OSError as e:
            raise FuseOSError(e.errno)

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        try:
            return os.open(self._path(path), os.O_RDONLY)
        except OSError as e:
            raise FuseOSError(e.errno)

    def read(self, path, size, offset, fh):
        time.sleep(self.delay)
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)
        return 0


if __name__ == "__main__":
    FUSE(Slow(sys.argv[1], float(sys.argv[3]) / 1000), sys.argv[2], foreground=True, nothreads=False, ro=True)
