"""Minimal TensorBoard event reader: prints step,tag,value rows (no dependencies)."""
import struct, sys, glob, os

def varint(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1
        r |= (c & 0x7f) << s; s += 7
        if c < 0x80: return r, i

def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i); f, w = key >> 3, key & 7
        if w == 0: v, i = varint(b, i)
        elif w == 1: v = b[i:i+8]; i += 8
        elif w == 5: v = b[i:i+4]; i += 4
        elif w == 2:
            n, i = varint(b, i); v = b[i:i+n]; i += n
        else: raise ValueError(w)
        yield f, w, v

def events(path):
    data = open(path, 'rb').read(); i = 0
    while i + 12 <= len(data):
        n = struct.unpack_from('<Q', data, i)[0]; i += 12
        rec = data[i:i+n]; i += n + 4
        step = 0; vals = []
        for f, w, v in fields(rec):
            if f == 2: step = v
            elif f == 5:
                for f2, w2, v2 in fields(v):
                    if f2 == 1:
                        tag = None; val = None
                        for f3, w3, v3 in fields(v2):
                            if f3 == 1: tag = v3.decode()
                            elif f3 == 2: val = struct.unpack('<f', v3)[0]
                        if tag is not None and val is not None: vals.append((tag, val))
        for t, v in vals: yield step, t, v

if __name__ == '__main__':
    d = sys.argv[1]
    tags = set(sys.argv[2:])
    for p in sorted(glob.glob(os.path.join(d, 'tensorboard', '*'))):
        for s, t, v in events(p):
            if not tags or t in tags: print(f"{s},{t},{v}")
