"""Compiled (numba) scanners for FER2013-style csv text: one pass to find fields, one to parse pixels.

The csv module + int() takes ~10 s for fer2013.csv on a 2-core laptop; these take well under 1 s.
Kernels report *where* a row is bad with a status code; the message is written in Python.
"""

from __future__ import annotations

import os

import numpy as np

NUM_PIXELS = 48 * 48

# Row status codes (0 = fine).
OK, BAD_PIXEL_VALUE, BAD_PIXEL_CHAR, BAD_PIXEL_COUNT, BAD_LABEL, BAD_USAGE = 0, 1, 2, 3, 4, 5

try:
    if "NUMBA_CACHE_DIR" not in os.environ:
        # numba caches compiled kernels beside the source by default, which a read-only install lacks.
        from ferkit.data.cache import cache_dir

        os.environ["NUMBA_CACHE_DIR"] = str(cache_dir() / "numba")
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # the `data` extra is not installed: csv_reader uses its numpy path
    HAVE_NUMBA = False

if HAVE_NUMBA:

    @njit(cache=True, nogil=True)
    def count_newlines(buf: np.ndarray) -> int:
        count = 0
        for i in range(buf.shape[0]):
            if buf[i] == 10:
                count += 1
        return count

    @njit(cache=True, nogil=True)
    def split_rows(buf, start, ncols, offsets, lines):  # pragma: no cover - compiled
        """Fill offsets[r, c] = (start, end) of field c of data row r; skip blank lines.

        Returns the row count, or -(r+1) when row r has the wrong number of fields.
        """
        n = buf.shape[0]
        r = 0
        p = start
        line = 2  # the header is line 1
        while p < n:
            q = p
            f = 0
            offsets[r, 0, 0] = p
            while q < n and buf[q] != 10:
                if buf[q] == 44:  # ','
                    if f + 1 < ncols:
                        offsets[r, f, 1] = q
                        offsets[r, f + 1, 0] = q + 1
                    f += 1
                q += 1
            e = q
            if e > p and buf[e - 1] == 13:  # '\r'
                e -= 1
            blank = True
            for i in range(p, e):
                if buf[i] != 32 and buf[i] != 9:
                    blank = False
                    break
            if not blank:
                lines[r] = line
                if f != ncols - 1:
                    return -(r + 1)
                offsets[r, f, 1] = e
                r += 1
            line += 1
            p = q + 1
        return r

    @njit(cache=True, nogil=True)
    def _small_int(buf, s, e):  # pragma: no cover - compiled
        """A non-negative integer in buf[s:e] (spaces and quotes around it allowed), or -1."""
        v = 0
        nd = 0
        for i in range(s, e):
            c = buf[i]
            if 48 <= c <= 57:
                if nd > 0 and (buf[i - 1] == 32 or buf[i - 1] == 34):
                    return -1
                v = v * 10 + (c - 48)
                nd += 1
                if nd > 6:
                    return -1
            elif c != 32 and c != 34:
                return -1
        return v if nd > 0 else -1

    @njit(cache=True, nogil=True)
    def _match_name(buf, s, e, names, name_lens):  # pragma: no cover - compiled
        while s < e and (buf[s] == 32 or buf[s] == 34):
            s += 1
        while e > s and (buf[e - 1] == 32 or buf[e - 1] == 34):
            e -= 1
        for k in range(names.shape[0]):
            if e - s == name_lens[k]:
                same = True
                for i in range(e - s):
                    if buf[s + i] != names[k, i]:
                        same = False
                        break
                if same:
                    return k
        return -1

    @njit(parallel=True, cache=True)
    def parse_rows(
        buf, offsets, nrows, pix_col, label_col, usage_col, names, name_lens, out_pixels, out_labels, out_usage, status
    ):  # pragma: no cover - compiled
        """Parse every row's pixels, label and usage in parallel; status[r] says what was wrong."""
        for r in prange(nrows):
            st = OK
            p = offsets[r, pix_col, 0]
            e = offsets[r, pix_col, 1]
            k = 0
            v = 0
            nd = 0
            while p < e:
                c = buf[p]
                if 48 <= c <= 57:
                    v = v * 10 + (c - 48)
                    nd += 1
                    if nd > 3:
                        st = BAD_PIXEL_VALUE
                        break
                elif c == 32 or c == 34 or c == 9:
                    if nd > 0:
                        if v > 255:
                            st = BAD_PIXEL_VALUE
                            break
                        if k >= NUM_PIXELS:
                            st = BAD_PIXEL_COUNT
                            break
                        out_pixels[r, k] = v
                        k += 1
                        v = 0
                        nd = 0
                else:
                    st = BAD_PIXEL_CHAR
                    break
                p += 1
            if st == OK and nd > 0:
                if v > 255:
                    st = BAD_PIXEL_VALUE
                elif k >= NUM_PIXELS:
                    st = BAD_PIXEL_COUNT
                else:
                    out_pixels[r, k] = v
                    k += 1
            if st == OK and k != NUM_PIXELS:
                st = BAD_PIXEL_COUNT
            if st == OK and label_col >= 0:
                lab = _small_int(buf, offsets[r, label_col, 0], offsets[r, label_col, 1])
                if lab < 0 or lab > 6:
                    st = BAD_LABEL
                else:
                    out_labels[r] = lab
            if st == OK and usage_col >= 0:
                u = _match_name(buf, offsets[r, usage_col, 0], offsets[r, usage_col, 1], names, name_lens)
                if u < 0:
                    st = BAD_USAGE
                else:
                    out_usage[r] = u
            status[r] = st
