"""On-device models: lazy, device-agnostic, offline by default."""

import os

# onnxruntime otherwise writes a telemetry device id under ~/.cache/Microsoft; Engram sends nothing.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
