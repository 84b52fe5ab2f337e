#!/usr/bin/env python3
"""Lays out the Sock Shop collection (RCD's sock-shop-data) the way RCAEval and BARO read it:
normal.csv then anomalous.csv, rows re-timed one second apart from the first normal row, the
fault at the first anomalous row. Writes <out>/<service>-<fault>-<n>.csv and prints one line
per case: `<csv> <fault row> <root-cause service>`.

Usage: sockshop_csv.py <sockshop-rcd dir> <out dir>
"""
import csv, os, sys


def main():
    src, out = sys.argv[1:3]
    os.makedirs(out, exist_ok=True)
    for case in sorted(os.listdir(src)):
        if "-" not in case or not os.path.isdir(os.path.join(src, case)):
            continue
        service = case.rsplit("-", 1)[0]
        for n in sorted(os.listdir(os.path.join(src, case))):
            d = os.path.join(src, case, n)
            rows, header = [], None
            for part in ("normal.csv", "anomalous.csv"):
                with open(os.path.join(d, part), newline="") as f:
                    r = csv.reader(f)
                    h = next(r)
                    if header is None:
                        header = h
                    elif h != header:  # align the second recording's columns onto the first's
                        idx = [h.index(c) for c in header]
                        r = ([row[i] for i in idx] for row in r)
                    body = list(r)
                if part == "normal.csv":
                    fault_row = len(body)
                rows.extend(body)
            t0 = int(float(rows[0][0]))
            ti = header.index("time")
            for i, row in enumerate(rows):
                row[ti] = str(t0 + i)
            path = os.path.join(out, f"{case}-{n}.csv")
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)
            print(path, fault_row, service)


if __name__ == "__main__":
    main()
