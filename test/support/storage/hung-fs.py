#!/usr/bin/env python3
"""A filesystem whose every lookup below its root hangs: a stand-in for a mount whose server is
gone (a dead NFS server). Mounted by test/support/storage/hung-mount.ts; killing this process releases
every call that hangs in it (they fail with ENOTCONN). usage: hung-fs.py MOUNTPOINT"""
import stat
import sys
import threading

from fusepy import FUSE, Operations

FOREVER = threading.Event()


class Hung(Operations):
    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
        FOREVER.wait()

    def readdir(self, path, fh):
        return [".", ".."]


if __name__ == "__main__":
    FUSE(Hung(), sys.argv[1], foreground=True, nothreads=False)
