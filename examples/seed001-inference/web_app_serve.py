"""Seed 001 inference web app (Flask), served on TCP 8080 by /opt/program/serve.

GET  /ping         200 with an empty body once the app is up (as in the seed).
POST /invocations  - with a model from the seed001-training image in /opt/ml/model
                     (model.joblib) and a body of CSV feature rows (one row per
                     line, numbers only, the same feature count the model was
                     trained on; a leading label column is tolerated and dropped):
                     one prediction per line, Content-Type text/csv
                     (or {"predictions": [...]} when Accept is application/json).
                   - any other body (e.g. plain text "hello world"): the seed's
                     reply {"prediction": "a", "text": "<input>"}.
                   - Content-Type text/csv with numeric rows of the wrong width while a
                     model is loaded: HTTP 400 with the reason (a ModelError to clients).
"""
import json
import os
import signal
import sys
import threading

from flask import Flask, Response, request

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")
MODEL_FILE = os.path.join(MODEL_DIR, "model.joblib")

app = Flask(__name__)

_model_lock = threading.Lock()
_model = {"loaded": False, "bundle": None, "error": None}


def get_model():
    """Load /opt/ml/model/model.joblib once; None when there is no usable model."""
    with _model_lock:
        if not _model["loaded"]:
            _model["loaded"] = True
            if os.path.isfile(MODEL_FILE):
                try:
                    import joblib
                    bundle = joblib.load(MODEL_FILE)
                    if not isinstance(bundle, dict) or "model" not in bundle:
                        raise ValueError("unexpected model file layout")
                    _model["bundle"] = bundle
                    print("loaded model from %s: %d features, classes %s"
                          % (MODEL_FILE, bundle["n_features"], bundle["classes"]), flush=True)
                except Exception as e:  # keep serving the seed behaviour
                    _model["error"] = "%s: %s" % (type(e).__name__, e)
                    print("could not load %s: %s" % (MODEL_FILE, _model["error"]), flush=True)
            else:
                print("no model at %s; answering with the seed's echo reply" % MODEL_FILE, flush=True)
        return _model["bundle"]


class NotNumeric(ValueError):
    pass


def parse_csv_rows(text, n_features):
    """Rows of floats. NotNumeric when the body is not numeric CSV at all,
    ValueError when it is but does not fit the model."""
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        cells = [c.strip().strip('"') for c in line.split(",")]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            raise NotNumeric("line %d is not numeric CSV" % lineno)
        if len(values) == n_features + 1:
            values = values[1:]  # a training-format row: drop the label column
        if len(values) != n_features:
            raise ValueError("line %d has %d values; the model expects %d features"
                             % (lineno, len(values), n_features))
        rows.append(values)
    if not rows:
        raise NotNumeric("no CSV rows in the request body")
    return rows


def format_label(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


@app.route("/ping", methods=["GET"])
def endpoint_ping():
    return ""


@app.route("/invocations", methods=["POST"])
def endpoint_invocations():
    input_str = request.get_data().decode("utf8", errors="replace")
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    accept = (request.headers.get("Accept") or "").lower()

    bundle = get_model()
    if bundle is not None:
        try:
            rows = parse_csv_rows(input_str, bundle["n_features"])
        except NotNumeric:
            rows = None
        except ValueError as e:
            if content_type == "text/csv":
                return Response("invalid CSV input: %s\n" % e, status=400, mimetype="text/plain")
            rows = None
        if rows is not None:
            import numpy as np
            preds = [format_label(p) for p in bundle["model"].predict(np.asarray(rows, dtype=np.float64))]
            if "application/json" in accept:
                return Response(json.dumps({"predictions": preds}), mimetype="application/json")
            return Response("".join("%s\n" % p for p in preds), mimetype="text/csv")

    # The seed's reply for anything that is not feature CSV.
    response = {"prediction": "a", "text": input_str}
    return Response(json.dumps(response), mimetype="application/json")


def _stop(signum, frame):
    # The server runs as PID 1 in the container, which ignores SIGTERM unless a
    # handler exists; exit promptly when the platform stops the endpoint.
    print("received signal %d, shutting down" % signum, flush=True)
    os._exit(0)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

# Load the model when the app is imported, so /ping answers once it is ready.
get_model()
