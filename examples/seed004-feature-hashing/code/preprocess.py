"""Seed 004 preprocessing job: train/validation split + feature hashing of avazu CTR data.

Delivered as a processing input (ScriptProcessor-style) and run as
    ContainerEntrypoint ["python3", "/opt/ml/processing/input/code/preprocess.py"]
on the sagebox-examples/seed004-feature-hashing image (python3-pandas, python3-sklearn).

Input : every file in the input directory (avazu train.csv layout with a header:
        id, click, hour, C1, banner_pos, site_*, app_*, device_*, C14..C21;
        .gz files are read too). The directory is --input, or the first of
        /opt/ml/processing/input/data, /opt/ml/processing/input/train that exists.
Output: <train dir>/train_data and <validation dir>/validation_data. A directory is
        --train-output/--validation-output, or the first existing of
        /opt/ml/processing/output/train, /opt/ml/processing/train (created if
        neither exists: the first one), likewise for validation.
Format: --format csv (default): no header, label (click) first, then --n-features
        hashed feature values (sklearn FeatureHasher, signed, one "column=value"
        token per categorical column plus hour-of-day and weekday tokens):
        directly usable by the seed001-training image.
        --format libsvm: "click idx:value ..." sparse lines (for large --n-features).
Other options: --validation-size 0.2, --seed 42, --chunk-rows 200000.
The split is done chunk by chunk with sklearn's train_test_split, so memory stays
bounded for millions of rows. A summary is printed and written to
/opt/ml/output/message.
"""
import argparse
import glob
import os
import signal
import sys
import time

import numpy as np
import pandas as pd
from sklearn.datasets import dump_svmlight_file
from sklearn.feature_extraction import FeatureHasher
from sklearn.model_selection import train_test_split

LABEL = "click"
CATEGORICAL = ["C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
               "app_domain", "app_category", "device_id", "device_ip", "device_model",
               "device_type", "device_conn_type", "C14", "C15", "C16", "C17", "C18",
               "C19", "C20", "C21"]
INPUT_CANDIDATES = ["/opt/ml/processing/input/data", "/opt/ml/processing/input/train"]
TRAIN_CANDIDATES = ["/opt/ml/processing/output/train", "/opt/ml/processing/train"]
VALIDATION_CANDIDATES = ["/opt/ml/processing/output/validation", "/opt/ml/processing/validation"]


def log(msg):
    print(msg, flush=True)


def pick_dir(given, candidates):
    if given:
        return given
    for c in candidates:
        if os.path.isdir(c):
            return c
    return candidates[0]


def input_files(directory):
    if not os.path.isdir(directory):
        raise SystemExit("input directory %s does not exist" % directory)
    files = sorted(p for p in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
                   if os.path.isfile(p) and not os.path.basename(p).startswith("."))
    if not files:
        raise SystemExit("no input files in %s" % directory)
    return files


def tokens(df):
    """One 'column=value' string per categorical column, plus time-of-day tokens."""
    hour = df["hour"].astype(str)
    parts = [("hod=" + hour.str[-2:]).to_numpy()]
    if hour.str.len().eq(8).all():
        days = pd.to_datetime("20" + hour.str[:6], format="%Y%m%d", errors="coerce")
        parts.append(("dow=" + days.dt.dayofweek.astype(str)).to_numpy())
    for col in CATEGORICAL:
        if col in df.columns:
            parts.append((col + "=" + df[col].astype(str)).to_numpy())
    return np.stack(parts, axis=1).tolist()


def write_part(matrix, labels, path, fmt, first):
    mode = "w" if first else "a"
    if fmt == "libsvm":
        with open(path, mode + "b") as f:
            dump_svmlight_file(matrix, labels, f, zero_based=True)
        return
    dense = matrix.toarray()
    with open(path, mode, encoding="utf-8", newline="") as f:
        if np.array_equal(dense, np.round(dense)):  # signed token counts: write integers
            out = np.column_stack([labels.astype(np.int64), dense.astype(np.int64)])
            pd.DataFrame(out).to_csv(f, header=False, index=False, lineterminator="\n")
        else:
            out = np.column_stack([labels.astype(np.float64), dense])
            np.savetxt(f, out, delimiter=",", fmt="%.6g")


def main():
    ap = argparse.ArgumentParser(description="avazu CTR train/validation split + feature hashing")
    ap.add_argument("--input")
    ap.add_argument("--train-output")
    ap.add_argument("--validation-output")
    ap.add_argument("--format", choices=("csv", "libsvm"), default="csv")
    ap.add_argument("--n-features", type=int, default=32)
    ap.add_argument("--validation-size", "--test-size", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk-rows", type=int, default=200000)
    args = ap.parse_args()
    if not 0.0 < args.validation_size < 1.0:
        ap.error("--validation-size must be between 0 and 1")
    if args.n_features < 1:
        ap.error("--n-features must be positive")
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))

    started = time.time()
    in_dir = pick_dir(args.input, INPUT_CANDIDATES)
    train_dir = pick_dir(args.train_output, TRAIN_CANDIDATES)
    val_dir = pick_dir(args.validation_output, VALIDATION_CANDIDATES)
    os.makedirs(train_dir, exist_ok=True)
    os.makedirs(val_dir, exist_ok=True)
    train_path = os.path.join(train_dir, "train_data")
    val_path = os.path.join(val_dir, "validation_data")
    files = input_files(in_dir)
    log("preprocess.py: %d input file(s) in %s -> %s, %s (%s, %d hashed features)"
        % (len(files), in_dir, train_path, val_path, args.format, args.n_features))

    hasher = FeatureHasher(n_features=args.n_features, input_type="string")
    counts = {"rows": 0, "train": 0, "validation": 0, "train_clicks": 0, "validation_clicks": 0}
    first = True
    chunk_no = 0
    for path in files:
        reader = pd.read_csv(path, dtype=str, chunksize=args.chunk_rows,
                             compression="infer", keep_default_na=False)
        for chunk in reader:
            if LABEL not in chunk.columns:
                raise SystemExit("%s has no '%s' column (columns: %s)"
                                 % (path, LABEL, ", ".join(chunk.columns[:30])))
            chunk_no += 1
            labels = pd.to_numeric(chunk[LABEL], errors="raise").astype(np.int64)
            chunk = chunk.assign(**{LABEL: labels})
            if len(chunk) >= 2:
                train, val = train_test_split(chunk, test_size=args.validation_size,
                                              random_state=args.seed + chunk_no, shuffle=True)
            else:
                train, val = chunk, chunk.iloc[0:0]
            for part, out_path, key in ((train, train_path, "train"), (val, val_path, "validation")):
                if first or len(part):
                    matrix = hasher.transform(tokens(part)) if len(part) else \
                        hasher.transform([[]])[:0]
                    write_part(matrix, part[LABEL].to_numpy(), out_path, args.format, first)
                counts[key] += len(part)
                counts[key + "_clicks"] += int(part[LABEL].sum())
            first = False
            counts["rows"] += len(chunk)
            log("  chunk %d of %s: %d rows (total %d)" % (chunk_no, os.path.basename(path),
                                                          len(chunk), counts["rows"]))
    if counts["rows"] == 0:
        raise SystemExit("input files hold no data rows")
    elapsed = time.time() - started
    summary = ("rows=%d train=%d validation=%d train-ctr=%.4f validation-ctr=%.4f "
               "features=%d format=%s seconds=%.1f" % (
                   counts["rows"], counts["train"], counts["validation"],
                   counts["train_clicks"] / max(1, counts["train"]),
                   counts["validation_clicks"] / max(1, counts["validation"]),
                   args.n_features, args.format, elapsed))
    log(summary)
    try:
        os.makedirs("/opt/ml/output", exist_ok=True)
        with open("/opt/ml/output/message", "w", encoding="utf-8") as f:
            f.write(summary)
    except OSError:
        pass


if __name__ == "__main__":
    main()
