#!/usr/bin/env python3
"""Check `apprunner-build export --output-dir DIR` output against each platform's own schema, offline.

    validate-export.py ecs|kubernetes|cloudrun DIR

- ecs: DIR/task-definition.json against botocore's ECS model for RegisterTaskDefinition's input,
  DIR/express-gateway-service.json for CreateExpressGatewayService's (botocore.validate).
- kubernetes: every DIR/*.yaml with kubernetes-validate, strict (unknown fields fail), against the
  newest Kubernetes version it carries.
- cloudrun: DIR/service.yaml against cloudcoil-models-knative-serving, pydantic models generated
  from Knative Serving's CRD schema. The models ignore unknown fields, so the document is also
  dumped back and compared: a field the schema lacks, or a value it had to coerce, fails.

Prints one `ok:` line per file and schema; exits 1 with the schema's errors otherwise.
The packages: botocore, kubernetes-validate, cloudcoil-models-knative-serving (scripts/test.sh
installs them into the venv named by APPRUNNER_TEST_PYVALIDATORS).
"""

import json
import sys
from pathlib import Path


def ecs(out: Path) -> list:
    import botocore
    import botocore.session
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model("ecs")
    failed = []
    for name, operation in [
        ("task-definition.json", "RegisterTaskDefinition"),
        ("express-gateway-service.json", "CreateExpressGatewayService"),
    ]:
        params = json.loads((out / name).read_text())
        if operation not in model.operation_names:
            failed.append(f"{name}: botocore {botocore.__version__} has no {operation}")
            continue
        try:
            validate_parameters(params, model.operation_model(operation).input_shape)
            print(f"ok: {name} is valid {operation} input (botocore {botocore.__version__}, ECS API {model.api_version})")
        except Exception as e:  # botocore's ParamValidationError lists every problem
            failed.append(f"{name}: {e}")
    return failed


def kubernetes(out: Path) -> list:
    import kubernetes_validate
    import yaml

    version = kubernetes_validate.latest_version()
    failed = []
    files = sorted(out.glob("*.yaml"))
    if not files:
        failed.append(f"no .yaml files in {out}")
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            try:
                kubernetes_validate.validate(doc, version, strict=True)
                print(f"ok: {path.name} ({doc['kind']}) is valid Kubernetes {version} (kubernetes-validate, strict)")
            except Exception as e:
                failed.append(f"{path.name}: {e}")
    return failed


def dropped_or_changed(given, dumped, at="") -> list:
    """Where `dumped` (the model's view) differs from `given`: fields the schema lacks or coerced."""
    if isinstance(given, dict):
        if not isinstance(dumped, dict):
            return [f"{at}: not an object in the schema"]
        problems = []
        for key, value in given.items():
            if key not in dumped:
                problems.append(f"{at}.{key}: not in the schema")
            else:
                problems.extend(dropped_or_changed(value, dumped[key], f"{at}.{key}"))
        return problems
    if isinstance(given, list):
        if not isinstance(dumped, list) or len(dumped) != len(given):
            return [f"{at}: not a list of the same length in the schema"]
        return [p for i, (g, d) in enumerate(zip(given, dumped)) for p in dropped_or_changed(g, d, f"{at}[{i}]")]
    if given != dumped or type(given) is not type(dumped):
        return [f"{at}: {given!r} read as {dumped!r}"]
    return []


def cloudrun(out: Path) -> list:
    from importlib.metadata import version

    import yaml
    from cloudcoil.models.knative_serving.serving import v1

    path = out / "service.yaml"
    doc = yaml.safe_load(path.read_text())
    try:
        # Strict: a YAML value's type is the document's. (Lax mode would also read the quantity
        # "1" as the integer branch of the generated int-or-string model, and fail its pattern.)
        service = v1.Service.model_validate(doc, strict=True)
    except Exception as e:
        return [f"{path.name}: {e}"]
    dumped = service.model_dump(by_alias=True, exclude_none=True, mode="json")
    problems = dropped_or_changed(doc, dumped)
    if problems:
        return [f"{path.name}: {p}" for p in problems]
    print(f"ok: {path.name} is a valid Knative serving.knative.dev/v1 Service (cloudcoil-models-knative-serving {version('cloudcoil-models-knative-serving')})")
    return []


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("ecs", "kubernetes", "cloudrun"):
        print(__doc__, file=sys.stderr)
        return 2
    failed = {"ecs": ecs, "kubernetes": kubernetes, "cloudrun": cloudrun}[sys.argv[1]](Path(sys.argv[2]))
    for line in failed:
        print(f"invalid: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
