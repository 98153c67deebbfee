#!/usr/bin/python3
"""mkimage.py - the replication benchmarks' disk image and its change (deterministic).

  mkimage.py make PATH SIZE        the image: runs of 4 KiB to 8 MiB (4 KiB-aligned), each one
                                   kind, kept at 70% random bytes, 10% text (log-like lines
                                   from a 3,000-word vocabulary, about 3:1 for zstd), 5%
                                   written zeros and 15% holes; prints the mix
  mkimage.py change PATH SIZE      1% of the 4 KiB blocks, distinct and at random, rewritten
                                   in place with random bytes; prints the count
  mkimage.py change-nbd URI SIZE   the same change written through NBD (python3-libnbd)

Seeds 1 (image) and 2 (change): every run and every tool sees the same bytes.
"""
import os
import random
import sys


def make(path, size):
    r = random.Random(1)
    az = 'abcdefghijklmnopqrstuvwxyz'
    vocab = [''.join(r.choices(az, k=r.randint(2, 10))) for _ in range(3000)]
    lines, n = [], 0
    while n < 8 << 20:
        s = '2026-11-%02d %02d:%02d:%02d.%03d host%d %s[%d]: %s\n' % (
            r.randint(1, 30), r.randrange(24), r.randrange(60), r.randrange(60), r.randrange(1000),
            r.randrange(64), r.choice(vocab), r.randrange(1, 65536),
            ' '.join(r.choices(vocab, k=r.randint(4, 14))))
        lines.append(s)
        n += len(s)
    pool = ''.join(lines).encode()
    want = {'random': .70, 'text': .10, 'zeros': .05, 'holes': .15}
    have = dict.fromkeys(want, 0)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    zeros, pos = bytes(1 << 20), 0
    while pos < size:
        n = min(r.randint(1, 2048) * 4096, size - pos)
        k = max(want, key=lambda k: want[k] * (pos + n) - have[k])  # the kind furthest behind
        have[k] += n
        o = 0
        while k != 'holes' and o < n:
            m = min(n - o, 1 << 20)
            if k == 'random':
                b = r.randbytes(m)
            elif k == 'text':
                a = r.randrange(len(pool) - m)
                b = pool[a:a + m]
            else:
                b = zeros[:m]
            os.pwrite(fd, b, pos + o)
            o += m
        pos += n
    os.close(fd)
    print(', '.join('%.0f%% %s' % (100 * have[k] / size, k) for k in want))


def blocks(size):
    r = random.Random(2)
    nb = size // 4096
    return r, sorted(r.sample(range(nb), max(1, nb // 100)))


def change(path, size):
    r, bl = blocks(size)
    fd = os.open(path, os.O_WRONLY)
    for b in bl:
        os.pwrite(fd, r.randbytes(4096), b * 4096)
    os.fsync(fd)
    os.close(fd)
    print(len(bl))


def change_nbd(uri, size):
    import nbd
    h = nbd.NBD()
    h.connect_uri(uri)
    r, bl = blocks(size)
    for b in bl:
        h.pwrite(r.randbytes(4096), b * 4096)
    h.flush()
    h.shutdown()
    print(len(bl))


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] not in ('make', 'change', 'change-nbd'):
        sys.exit(__doc__)
    {'make': make, 'change': change, 'change-nbd': change_nbd}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
