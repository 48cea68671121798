"""Seed 000 processing container: ENTRYPOINT ["python3", "/processing_script.py"].

Arguments (ContainerArguments), any order:
  data-format <fmt>   csv   : each input file parsed as CSV, cells trimmed, blank
                              lines dropped, written back as CSV (same relative path)
                      json  : JSON Lines or one JSON document per file, rewritten
                              compactly (one document per line)
                      raw / text / anything-else-known: byte-for-byte copy
                      (default when the argument is absent: raw)
  --data-format <fmt> and --data-format=<fmt> are accepted too.

Inputs and outputs come from /opt/ml/config/processingjobconfig.json
(ProcessingInputs[].S3Input.LocalPath, ProcessingOutputConfig.Outputs[].S3Output.LocalPath);
without that file, /opt/ml/processing/input -> /opt/ml/processing/output.
Files of one input land in the first output directory under their path relative
to the input's LocalPath (with several inputs: under <output>/<InputName>/).
An input named "code" or mounted at /opt/ml/processing/input/code is skipped.
A one-line summary is written to /opt/ml/output/message (DescribeProcessingJob
ExitMessage); on error the reason goes there too and the exit code is 1.
"""
import csv
import io
import json
import os
import shutil
import signal
import sys
import time

CONFIG = "/opt/ml/config/processingjobconfig.json"
RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
MESSAGE = "/opt/ml/output/message"
FORMATS = ("csv", "json", "raw", "text")


class ProcessingError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def write_message(text):
    try:
        os.makedirs(os.path.dirname(MESSAGE), exist_ok=True)
        with open(MESSAGE, "w", encoding="utf-8") as f:
            f.write(text[:1024])
    except OSError as e:
        print("could not write %s: %s" % (MESSAGE, e), file=sys.stderr, flush=True)


def parse_args(argv):
    fmt = "raw"
    i = 0
    extra = []
    while i < len(argv):
        a = argv[i]
        if a in ("data-format", "--data-format"):
            if i + 1 >= len(argv):
                raise ProcessingError("%s needs a value (one of %s)" % (a, ", ".join(FORMATS)))
            fmt = argv[i + 1]
            i += 2
            continue
        if a.startswith("--data-format="):
            fmt = a.split("=", 1)[1]
        else:
            extra.append(a)
        i += 1
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise ProcessingError("unsupported data-format %r (use one of %s)" % (fmt, ", ".join(FORMATS)))
    return fmt, extra


def load_config():
    try:
        with open(CONFIG, "r", encoding="utf-8") as f:
            cfg = json.load(f)
    except FileNotFoundError:
        log("no %s; using /opt/ml/processing/input -> /opt/ml/processing/output" % CONFIG)
        return None, [("input", "/opt/ml/processing/input")], ["/opt/ml/processing/output"]
    except ValueError as e:
        raise ProcessingError("cannot parse %s: %s" % (CONFIG, e))
    inputs = []
    for inp in cfg.get("ProcessingInputs") or []:
        s3 = inp.get("S3Input") or {}
        path = s3.get("LocalPath")
        name = inp.get("InputName") or ""
        if not path or name == "code" or os.path.normpath(path) == "/opt/ml/processing/input/code":
            continue
        inputs.append((name or os.path.basename(path), path))
    outputs = [o["S3Output"]["LocalPath"] for o in
               ((cfg.get("ProcessingOutputConfig") or {}).get("Outputs") or [])
               if (o.get("S3Output") or {}).get("LocalPath")]
    return cfg, inputs, outputs


def transform_csv(src, dst):
    rows = 0
    with open(src, "r", encoding="utf-8", newline="") as fin, \
            open(dst, "w", encoding="utf-8", newline="") as fout:
        writer = csv.writer(fout, lineterminator="\n")
        for row in csv.reader(fin):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            writer.writerow(cells)
            rows += 1
    return rows


def transform_json(src, dst):
    with open(src, "r", encoding="utf-8") as fin:
        text = fin.read()
    docs = []
    try:
        docs = [json.loads(text)] if text.strip() else []
    except ValueError:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except ValueError as e:
                    raise ProcessingError("%s line %d is not JSON: %s" % (src, n, e))
    with open(dst, "w", encoding="utf-8") as fout:
        for d in docs:
            fout.write(json.dumps(d, separators=(",", ":"), sort_keys=True) + "\n")
    return len(docs)


def main(argv):
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    started = time.time()
    fmt, extra = parse_args(argv)
    log("processing_script.py: data-format=%s args=%s" % (fmt, json.dumps(argv)))
    cfg, inputs, outputs = load_config()
    if cfg is not None:
        log("job %s, %d input(s), %d output(s)"
            % (cfg.get("ProcessingJobName"), len(inputs), len(outputs)))
    try:
        with open(RESOURCE_CONFIG, "r", encoding="utf-8") as f:
            rc = json.load(f)
        log("host %s of %s" % (rc.get("current_host"), rc.get("hosts")))
    except (OSError, ValueError):
        pass
    if not outputs:
        raise ProcessingError("no processing output configured")
    out_root = outputs[0]
    files = rows = 0
    for name, in_dir in inputs:
        if not os.path.isdir(in_dir):
            log("input %s: %s does not exist, skipped" % (name, in_dir))
            continue
        dest_root = out_root if len(inputs) == 1 else os.path.join(out_root, name)
        for root, dirs, names in os.walk(in_dir):
            dirs.sort()
            for fname in sorted(names):
                src = os.path.join(root, fname)
                dst = os.path.join(dest_root, os.path.relpath(src, in_dir))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if fmt == "csv":
                    n = transform_csv(src, dst)
                elif fmt == "json":
                    n = transform_json(src, dst)
                else:
                    shutil.copyfile(src, dst)
                    n = 0
                files += 1
                rows += n
                log("  %s -> %s%s" % (src, dst, " (%d records)" % n if fmt in ("csv", "json") else ""))
    summary = "processed %d file(s) as %s%s into %s in %.2fs" % (
        files, fmt, ", %d records" % rows if fmt in ("csv", "json") else "", out_root,
        time.time() - started)
    log(summary)
    write_message(summary)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ProcessingError as e:
        print("processing failed: %s" % e, file=sys.stderr, flush=True)
        write_message("error: %s" % e)
        sys.exit(1)
    except (UnicodeDecodeError, csv.Error) as e:
        print("processing failed: %s" % e, file=sys.stderr, flush=True)
        write_message("error: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
