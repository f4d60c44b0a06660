"""Materializes asset selections with the real Dagster and writes Dagster's own event log as JSON.

Usage: python materialize.py --runs '<json list>' --output out.json [--definitions defs.py]

The definitions module provides ASSETS (and RESOURCES), or a `defs` dagster.Definitions.

Each run: {"name": str, "selection": [str | [str]] (asset keys: "a/b" or parts), "partition_key": str|null, "run_config": {}|null}.
All runs share one ephemeral instance, in order (a later run sees earlier materializations, so
provenance is populated). Output: {"dagster_version", "runs": [{name, run_id, success, events,
captured_stdout, captured_stderr}]}; each event is a user log record or a Dagster event with its
materialization / check evaluation / error decoded, metadata values with their Python class names.
"""

import argparse
import importlib.util
import io
import json
import logging
import sys
import threading
from pathlib import Path

import dagster as dg
from dagster._core.instance import DagsterInstance
from dagster._serdes import serialize_value


def load_module(path: str):
    sys.path.insert(0, str(Path(path).resolve().parent))  # so the module can import its siblings
    spec = importlib.util.spec_from_file_location("slurm_pipes_test_definitions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def jsonable(value):
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dg.AssetKey):
        return {"asset_key_path": list(value.path)}
    # Exact types: Dagster records (AssetKey, TableRecord, ...) subclass tuple.
    if type(value) in (list, tuple):
        return [jsonable(v) for v in value]
    if type(value) is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    try:
        return json.loads(serialize_value(value))
    except Exception:  # noqa: BLE001
        return repr(value)


def metadata_entry(value):
    inner = getattr(value, "value", None)
    return {
        "class": type(value).__name__,
        "value": jsonable(inner),
        "value_class": type(inner).__name__,
        "repr": repr(inner),
    }


def metadata_map(metadata):
    return {key: metadata_entry(value) for key, value in (metadata or {}).items()}


def error_info(err):
    if err is None:
        return None
    return {
        "message": err.message,
        "stack": list(err.stack),
        "cls_name": err.cls_name,
        "cause": error_info(err.cause),
        "context": error_info(err.context),
    }


def describe_entry(entry):
    item = {
        "level": logging.getLevelName(entry.level),
        "step_key": entry.step_key,
        "message": entry.user_message,
    }
    event = entry.dagster_event
    if event is None:
        item["kind"] = "log"
        return item
    item["kind"] = "event"
    item["event_type"] = event.event_type_value
    item["message"] = event.message or entry.user_message
    data = event.event_specific_data
    if event.event_type_value == "ASSET_MATERIALIZATION":
        mat = event.step_materialization_data.materialization
        item["materialization"] = {
            "asset_key": list(mat.asset_key.path),
            "asset_key_escaped": mat.asset_key.to_escaped_user_string(),
            "partition": mat.partition,
            "metadata": metadata_map(mat.metadata),
            "tags": dict(mat.tags or {}),
        }
    elif event.event_type_value == "ASSET_CHECK_EVALUATION":
        item["check"] = {
            "asset_key": list(data.asset_key.path),
            "check_name": data.check_name,
            "passed": data.passed,
            "severity": data.severity.value if data.severity is not None else None,
            "metadata": metadata_map(data.metadata),
        }
    error = getattr(data, "error", None)
    if error is not None:
        item["error"] = error_info(error)
    return item


class Tee(io.TextIOBase):
    """Records everything written while passing it on (thread-safe enough for the reader thread)."""

    def __init__(self, target):
        self._target = target
        self._lock = threading.Lock()
        self.parts = []

    def write(self, text):
        with self._lock:
            self.parts.append(text)
        return self._target.write(text)

    def flush(self):
        self._target.flush()

    def fileno(self):
        return self._target.fileno()

    def text(self):
        return "".join(self.parts)


def to_asset_key(item):
    # A list is the key's parts (a part may contain "/"); a string is split on "/".
    return dg.AssetKey(item) if isinstance(item, list) else dg.AssetKey.from_user_string(item)


def assets_and_resources(module):
    # ASSETS / RESOURCES when the module lists them, else those of its `defs` (a dg.Definitions).
    if hasattr(module, "ASSETS"):
        return list(module.ASSETS), dict(getattr(module, "RESOURCES", {}))
    defs = module.defs
    return list(defs.assets or []), dict(defs.resources or {})


def run_one(module, instance, spec):
    out, err = Tee(sys.__stderr__), Tee(sys.__stderr__)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        assets, resources = assets_and_resources(module)
        result = dg.materialize(
            assets,
            selection=[to_asset_key(item) for item in spec["selection"]],
            partition_key=spec.get("partition_key"),
            run_config=spec.get("run_config"),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    finally:
        sys.stdout, sys.stderr = saved
    return {
        "name": spec.get("name"),
        "run_id": result.run_id,
        "success": result.success,
        "events": [describe_entry(e) for e in instance.all_logs(result.run_id)],
        "captured_stdout": out.text(),
        "captured_stderr": err.text(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True, help="JSON list of runs")
    parser.add_argument("--output", required=True, help="where to write the JSON result")
    parser.add_argument("--definitions", default=str(Path(__file__).with_name("definitions.py")))
    args = parser.parse_args()

    module = load_module(args.definitions)
    runs = json.loads(args.runs)
    with DagsterInstance.ephemeral() as instance:
        results = [run_one(module, instance, spec) for spec in runs]
    Path(args.output).write_text(json.dumps({"dagster_version": dg.__version__, "runs": results}, indent=1))


if __name__ == "__main__":
    main()
