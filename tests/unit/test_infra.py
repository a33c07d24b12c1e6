"""Offline checks that infra/, cloudbuild.yaml, main.py and the local topology agree.

The declarations are data files (infra/functions.yaml, infra/topology.yaml). Terraform itself
evaluates the locals of infra/*.tf that depend only on them (``terraform console`` needs no provider,
so it runs offline), and python-hcl2 reads the resources' structure. ``problems()`` lists every
disagreement; the tests below show it is empty for the repository and not empty when a function,
subscription, role, secret or setting is added without its counterpart.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from pydantic import SecretStr

import main
from emulators.host import HTTP_MOUNTS
from shared import topology
from shared.config import Settings
from shared.topology import PUSH_SUBSCRIPTIONS, TOPOLOGY

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
PRIMITIVE_ROLES = re.compile(r"roles/(owner|editor|viewer)\b|roles/[\w.]*admin\b", re.IGNORECASE)
ERROR = "!error"


# --- reading Terraform -------------------------------------------------------------------------


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of keys and string literals; drop them and its markers."""
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_terraform(infra: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """resource type -> name -> attributes, over every .tf file of ``infra``."""
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(infra.glob("*.tf")):
        with path.open() as handle:
            document = _unquote(hcl2.load(handle))
        for block in document.get("resource", []):
            for kind, named in block.items():
                resources.setdefault(kind, {}).update(named)
    return resources


def _locals_sources(text: str) -> dict[str, str]:
    """The source text of each attribute of the ``locals`` blocks in one .tf file.

    A small HCL scanner: brackets, quoted strings and ``${...}`` interpolations (which may hold
    strings and span lines) nest; an attribute ends at the first line break at the block's level.
    """
    attributes: dict[str, str] = {}
    attribute = re.compile(r"[ \t]*(\w+)[ \t]*=(?!=)")
    for block in re.finditer(r"^locals\s*\{[ \t]*\n", text, re.MULTILINE):
        stack, i = ["{"], block.end()
        name, begin = None, i
        while i < len(text) and stack:
            if len(stack) == 1 and (i == block.end() or text[i - 1] == "\n"):
                if name is not None:
                    attributes[name] = text[begin:i].rstrip()
                    name = None
                found = attribute.match(text, i)
                if found:
                    name, begin = found.group(1), i
            ch, top = text[i], stack[-1]
            if top == '"':
                if ch == "\\":
                    i += 2
                    continue
                if text.startswith(("${", "%{"), i):
                    stack.append("${")
                    i += 2
                    continue
                if ch == '"':
                    stack.pop()
            elif ch == "#" or text.startswith("//", i):
                i = text.find("\n", i)
                continue
            elif ch == '"':
                stack.append('"')
            elif ch in "{[(":
                stack.append(ch)
            elif ch in "}])":
                stack.pop()
            i += 1
        if name is not None:
            attributes[name] = text[begin : i - 1].rstrip()
    return attributes


def evaluate_locals(infra: Path, workdir: Path) -> dict[str, Any]:
    """Every local of infra/*.tf that depends only on the data files, as Terraform evaluates it."""
    sources: dict[str, str] = {}
    for path in sorted(infra.glob("*.tf")):
        sources.update(_locals_sources(path.read_text()))
    pure = {name for name, text in sources.items() if not re.search(r"\b(var|data|google_\w+)\.", text)}
    changed = True
    while changed:  # drop locals that read a local that is not pure
        changed = False
        for name in sorted(pure):
            if set(re.findall(r"\blocal\.(\w+)", sources[name])) - pure:
                pure.discard(name)
                changed = True
    shutil.copytree(infra, workdir, ignore=shutil.ignore_patterns("*.tf", "environments", ".terraform*"))
    body = "\n".join(sources[name] for name in sorted(pure))
    (workdir / "main.tf").write_text(f"locals {{\n{body}\n}}\n")
    evaluated = _console(workdir, "{" + ", ".join(f'{n} = try(local.{n}, "{ERROR}")' for n in sorted(pure)) + "}")
    if isinstance(evaluated, dict):
        return evaluated

    # Something is unknown or invalid: evaluate one local at a time to say which.
    def alone(name: str) -> Any:  # each console in a directory of its own: they lock their state
        own = workdir.with_name(f"{workdir.name}-{name}")
        shutil.copytree(workdir, own)
        return _console(own, f"local.{name}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        values = pool.map(alone, sorted(pure))
        return dict(zip(sorted(pure), values, strict=True))


def _console(workdir: Path, expression: str) -> Any:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail("terraform is needed on PATH: it evaluates infra/ offline (make test checks the same)")
    done = subprocess.run(
        [terraform, "console"],
        input=f"jsonencode({expression})",
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1"},
    )
    last = done.stdout.strip().splitlines()[-1:] or [""]
    if done.returncode or not last[0].startswith('"'):
        return ERROR
    return json.loads(json.loads(last[0]))


# --- the model the checks run on -----------------------------------------------------------------


@dataclass
class Infra:
    exports: set[str]  # main.py's __all__
    declaration: dict[str, Any]  # infra/functions.yaml as read
    locals: dict[str, Any]  # Terraform's evaluation of the pure locals
    resources: dict[str, dict[str, dict[str, Any]]]  # parsed infra/*.tf
    tf_text: str  # every .tf file, for the role scan
    cloudbuild: dict[str, Any]
    deploy_commands: list[list[str]]  # what the deploy step runs (infra/deploy_functions.py)
    settings_fields: dict[str, Any] = field(default_factory=dict)  # env name -> Settings field info
    python_subscriptions: list[dict[str, Any]] = field(default_factory=list)  # shared/topology.py


def _deploy_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_functions", INFRA / "deploy_functions.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def settings_env_names() -> dict[str, Any]:
    names = {}
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        names[alias or f"EREG_{name.upper()}"] = info
    return names


def build(infra: Path, workdir: Path, resources: dict[str, dict[str, dict[str, Any]]] | None = None) -> Infra:
    declaration = yaml.safe_load((infra / "functions.yaml").read_text())
    deploy = _deploy_module()
    return Infra(
        exports=set(main.__all__),
        declaration=declaration,
        locals=evaluate_locals(infra, workdir),
        resources=resources if resources is not None else parse_terraform(infra),
        tf_text="\n".join(p.read_text() for p in sorted(infra.glob("*.tf"))),
        cloudbuild=yaml.safe_load((REPO / "cloudbuild.yaml").read_text()),
        deploy_commands=[d.command("P", "R", "gs://b/source.zip") for d in deploy.deployments(declaration)],
        settings_fields=settings_env_names(),
        python_subscriptions=[  # as shared/topology.py reads the same file
            {
                "name": s.name,
                "topic": s.topic,
                "function": s.function,
                "ack_deadline_s": s.ack_deadline_s,
                "min_backoff_s": s.min_backoff_s,
                "max_backoff_s": s.max_backoff_s,
                "max_delivery_attempts": s.max_delivery_attempts,
                "dead_letter_topic": s.dead_letter_topic,
            }
            for s in topology.parse(yaml.safe_load((infra / "topology.yaml").read_text())).subscriptions
        ],
    )


# --- the checks ---------------------------------------------------------------------------------


def problems(infra: Infra) -> list[str]:
    found: list[str] = []
    for name, value in infra.locals.items():
        if value == ERROR:
            found.append(f"terraform cannot evaluate local.{name} from the declarations (an unknown key or level?)")
    found += function_problems(infra)
    found += subscription_problems(infra)
    found += role_problems(infra)
    found += secret_problems(infra)
    found += settings_problems(infra)
    return found


def _map(infra: Infra, name: str) -> dict[str, Any]:
    value = infra.locals.get(name)
    return value if isinstance(value, dict) else {}


def _resource(infra: Infra, kind: str, name: str) -> dict[str, Any]:
    return infra.resources.get(kind, {}).get(name, {})


def _block(resource: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = resource
    for key in path:
        node = node.get(key, [{}]) if isinstance(node, dict) else {}
        node = node[0] if isinstance(node, list) and node else node
    return node if isinstance(node, dict) else {}


def function_problems(infra: Infra) -> list[str]:
    found: list[str] = []
    functions: dict[str, Any] = _map(infra, "functions")
    entry_points = {f["entry_point"]: name for name, f in functions.items()}
    for export in sorted(infra.exports - set(entry_points)):
        found.append(f"main.py exports {export} but infra/functions.yaml does not declare it")
    for entry, name in sorted(entry_points.items()):
        if entry not in infra.exports:
            found.append(f"infra/functions.yaml declares {name} (entry point {entry}) but main.py does not export it")

    # Terraform: one function resource and one service account per declared function, nothing else.
    deployed = infra.resources.get("google_cloudfunctions2_function", {})
    if set(deployed) != {"fn"}:
        found.append(f"Cloud Functions outside the declaration in infra/*.tf: {sorted(set(deployed) - {'fn'})}")
    fn = deployed.get("fn", {})
    if fn.get("for_each") != "${local.functions}":
        found.append("google_cloudfunctions2_function.fn must iterate over local.functions")
    if _block(fn, "build_config").get("entry_point") != "${each.value.entry_point}":
        found.append("google_cloudfunctions2_function.fn must deploy each function's declared entry point")
    account = _resource(infra, "google_service_account", "fn")
    if account.get("for_each") != "${local.functions}":
        found.append("google_service_account.fn must iterate over local.functions (one account per function)")
    if _block(fn, "service_config").get("service_account_email") != "${google_service_account.fn[each.key].email}":
        found.append("each function must run as its own service account (google_service_account.fn[each.key])")
    ingress = str(_block(fn, "service_config").get("ingress_settings", ""))
    if (
        set(re.findall(r"ALLOW_\w+", ingress)) - {"ALLOW_INTERNAL_AND_GCLB", "ALLOW_INTERNAL_ONLY"}
        or "ALLOW_ALL" in ingress
    ):
        found.append(f"function ingress too open: {ingress}")

    # Cloud Build: a deploy step runs infra/deploy_functions.py, which deploys every declared function.
    scripts = [" ".join(map(str, s.get("args", []))) for s in infra.cloudbuild.get("steps", [])]
    if not any(re.search(r"infra/deploy_functions\.py deploy (?!--dry-run)", s) for s in scripts):
        found.append("cloudbuild.yaml has no step that runs `infra/deploy_functions.py deploy`")
    deploys = {c[3]: c for c in infra.deploy_commands}
    for name, f in sorted(functions.items()):
        command = deploys.get(f["service_name"])
        if command is None:
            found.append(f"no Cloud Build deploy for {name}")
            continue
        account_id = account.get("account_id", "").replace("${each.value.service_name}", f["service_name"])
        expected = {f"--entry-point={f['entry_point']}", f"--service-account={account_id}@P.iam.gserviceaccount.com"}
        if not expected <= set(command):
            found.append(f"the deploy of {name} does not use {sorted(expected - set(command))}")
    for service in sorted(set(deploys) - {f["service_name"] for f in functions.values()}):
        found.append(f"Cloud Build deploys {service}, which infra/functions.yaml does not declare")

    templates = [t for f in functions.values() if f["http"] for t in f.get("routes", [])]
    for template in sorted({t for t in templates if templates.count(t) > 1}):
        found.append(f"route {template} is declared by more than one function")

    # Triggers: HTTP functions have routes; event functions have exactly one push subscription of their topic.
    subscriptions: dict[str, Any] = _map(infra, "subscriptions")
    for name, f in sorted(functions.items()):
        if f["http"]:
            if not f.get("routes"):
                found.append(f"HTTP function {name} has no routes")
            continue
        topic = f["trigger"].get("topic") if isinstance(f["trigger"], dict) else None
        mine = [s for s in subscriptions.values() if s["function"] == name]
        if len(mine) != 1 or mine[0]["topic"] != topic:
            found.append(f"event function {name} needs one subscription of topic {topic} in topology.yaml")
        elif int(f.get("timeout_s", 60)) >= int(mine[0]["ack_deadline_s"]):
            found.append(f"{name}'s timeout must be shorter than the ack deadline of {mine[0]['name']}")
    return found


def subscription_problems(infra: Infra) -> list[str]:
    found: list[str] = []
    topology: dict[str, Any] = _map(infra, "topology")
    subscriptions: dict[str, Any] = _map(infra, "subscriptions")
    functions: dict[str, Any] = _map(infra, "functions")
    topics = set(topology.get("topics", []))
    for name, s in sorted(subscriptions.items()):
        if s["topic"] not in topics:
            found.append(f"subscription {name}: topic {s['topic']} is not declared, so it has no dead-letter topic")
        target = functions.get(s["function"])
        if target is None or target["http"]:
            found.append(f"subscription {name} pushes to {s['function']}, which is no declared event function")
        if not 5 <= int(s["max_delivery_attempts"]) <= 100:
            found.append(f"subscription {name}: max_delivery_attempts must be 5..100")
        if not 10 <= int(s["ack_deadline_s"]) <= 600:
            found.append(f"subscription {name}: ack deadline must be 10..600 s")
        if not 0 <= int(s["min_backoff_s"]) <= int(s["max_backoff_s"]) <= 600:
            found.append(f"subscription {name}: backoff must be 0 <= min <= max <= 600 s")

    # Every subscription resource has a dead-letter policy, except the holds on the dead-letter topics.
    for name, sub in sorted(infra.resources.get("google_pubsub_subscription", {}).items()):
        on_dead_letters = "google_pubsub_topic.dead_letter[" in str(sub.get("topic", ""))
        policy = _block(sub, "dead_letter_policy")
        if not on_dead_letters and "google_pubsub_topic.dead_letter[" not in str(policy.get("dead_letter_topic", "")):
            found.append(f"google_pubsub_subscription.{name} has no dead-letter topic")
    dead_letter = _resource(infra, "google_pubsub_topic", "dead_letter")
    if dead_letter.get("for_each") != "${toset(local.topology.topics)}":
        found.append("google_pubsub_topic.dead_letter must give every declared topic its dead-letter topic")
    push = _resource(infra, "google_pubsub_subscription", "push")
    wiring = {
        "for_each": "${local.subscriptions}",
        "ack_deadline_seconds": "${each.value.ack_deadline_s}",
    }
    for key, expected in wiring.items():
        if push.get(key) != expected:
            found.append(f"google_pubsub_subscription.push.{key} must be {expected}")
    if _block(push, "dead_letter_policy").get("max_delivery_attempts") != "${each.value.max_delivery_attempts}":
        found.append("google_pubsub_subscription.push must take max_delivery_attempts from topology.yaml")
    if _block(push, "retry_policy").get("minimum_backoff") != "${each.value.min_backoff_s}s":
        found.append("google_pubsub_subscription.push must take its retry policy from topology.yaml")

    # The local bootstrap (shared/topology.py) and Terraform read the same subscriptions.
    suffix = topology.get("dead_letter", {}).get("suffix", "")
    terraform_view = sorted(
        [{**{k: s[k] for k in ("name", "topic", "function")}, **{k: int(s[k]) for k in (
            "ack_deadline_s", "min_backoff_s", "max_backoff_s", "max_delivery_attempts")},
          "dead_letter_topic": s["topic"] + suffix} for s in subscriptions.values()],
        key=lambda s: s["name"],
    )  # fmt: skip
    if terraform_view != sorted(infra.python_subscriptions, key=lambda s: s["name"]):
        found.append("shared/topology.py and Terraform disagree on the push subscriptions")
    return found


def role_problems(infra: Infra) -> list[str]:
    found: list[str] = []
    for match in sorted(set(m.group(0) for m in PRIMITIVE_ROLES.finditer(infra.tf_text))):
        found.append(f"infra/ grants {match}: no owner, editor, viewer or admin role anywhere")
    vocabulary: dict[str, Any] = _map(infra, "access_roles")
    topics = set(_map(infra, "topology").get("topics", []))
    for name, f in sorted(_map(infra, "functions").items()):
        for kind, level in sorted(f["access"].items()):
            if kind in ("publish", "view_topics"):
                for topic in level:
                    if topic not in topics:
                        found.append(f"{name} may {kind} topic {topic}, which topology.yaml does not declare")
            elif not isinstance(vocabulary.get(kind), dict) or level not in vocabulary[kind]:
                found.append(f"{name}: access {kind}: {level} is not in local.access_roles (infra/iam.tf)")
    # Every binding to a function's account comes from the declaration (a for_each over a local).
    for kind, named in sorted(infra.resources.items()):
        if not kind.endswith(("_iam_member", "_iam_binding", "_iam_policy")):
            continue
        for rname, binding in sorted(named.items()):
            if "google_service_account.fn[" in str(binding.get("member", "")) and "local." not in str(
                binding.get("for_each", "")
            ):
                found.append(f"{kind}.{rname} grants a function's account a role that functions.yaml does not declare")
    grants = {
        "google_spanner_database_iam_member.fn": "${local.spanner_grants}",
        "google_project_iam_member.firestore": "${local.firestore_grants}",
        "google_bigquery_dataset_iam_member.fn": "${local.bigquery_grants}",
        "google_pubsub_topic_iam_member.fn": "${local.topic_grants}",
        "google_secret_manager_secret_iam_member.reader": "${local.secret_grants}",
        "google_kms_crypto_key_iam_member.fn": "${local.kms_grants}",
    }
    for address, for_each in grants.items():
        kind, rname = address.split(".")
        if _resource(infra, kind, rname).get("for_each") != for_each:
            found.append(f"{address} must iterate over {for_each[2:-1]}")
    return found


def secret_problems(infra: Infra) -> list[str]:
    found: list[str] = []
    declared = set((infra.declaration.get("secrets") or {}).keys())
    read: set[str] = set()
    for name, f in sorted(_map(infra, "functions").items()):
        for secret in f["secrets"]:
            read.add(secret)
            if secret not in declared:
                found.append(f"{name} reads secret {secret}, which infra/functions.yaml `secrets` does not declare")
    for secret in sorted(declared - read):
        found.append(f"secret {secret} is declared but no function reads it")
    for secret, env in sorted(_map(infra, "secret_environment").items()):
        info = infra.settings_fields.get(env)
        if info is None or info.annotation is not SecretStr:
            found.append(f"secret {secret} is mounted as {env}, which is no SecretStr setting of shared/config.py")
    if _resource(infra, "google_secret_manager_secret", "secret").get("for_each") != "${local.declarations.secrets}":
        found.append("google_secret_manager_secret.secret must iterate over functions.yaml `secrets`")
    fn = _resource(infra, "google_cloudfunctions2_function", "fn")
    mounts = [
        b
        for b in _block(fn, "service_config").get("dynamic", [])
        if "secret_environment_variables" in b
        and b["secret_environment_variables"].get("for_each") == "${toset(each.value.secrets)}"
    ]
    if not mounts:
        found.append("google_cloudfunctions2_function.fn must mount exactly each function's declared secrets")
    return found


def _function_environment(infra: Infra) -> set[str]:
    """Keys of local.function_environment (it reads resources, so it is read from the source)."""
    text = "\n".join(_locals_sources(infra.tf_text).get("function_environment", "").splitlines())
    return set(re.findall(r"^\s*(\w+)\s*=", text, re.MULTILINE)) - {"function_environment"}


def _mounted_literals(infra: Infra) -> set[str]:
    """Variables mounted from a secret under a fixed name (EREG_REDIS_URL from the redis-url secret)."""
    fn = _resource(infra, "google_cloudfunctions2_function", "fn")
    names = set()
    for block in _block(fn, "service_config").get("dynamic", []):
        for content in block.get("secret_environment_variables", {}).get("content", []):
            key = str(content.get("key", ""))
            if re.fullmatch(r"EREG_\w+", key):
                names.add(key)
    return names


def settings_problems(infra: Infra) -> list[str]:
    explicit = _function_environment(infra)
    secret = set(_map(infra, "secret_environment").values()) | _mounted_literals(infra)
    local_only = set(infra.declaration.get("local_only_settings") or [])
    return [
        f"setting {env} is not set for the cloud: set it in local.function_environment (infra/functions.tf), "
        "declare it a secret, or list it under local_only_settings in infra/functions.yaml"
        for env in sorted(set(infra.settings_fields) - explicit - secret - local_only)
    ] + [
        f"local_only_settings names {env}, which shared/config.py does not have"
        for env in sorted(local_only - set(infra.settings_fields))
    ]


# --- tests --------------------------------------------------------------------------------------


@cache
def _resources() -> dict[str, dict[str, dict[str, Any]]]:
    return parse_terraform(INFRA)


@pytest.fixture(scope="module")
def repo_infra(tmp_path_factory: pytest.TempPathFactory) -> Infra:
    return build(INFRA, tmp_path_factory.mktemp("tf") / "infra", _resources())


def test_the_repository_has_no_problems(repo_infra: Infra) -> None:
    assert problems(repo_infra) == []
    assert set(repo_infra.locals["functions"]) == set(main.__all__)  # evaluated, not vacuous
    assert len(repo_infra.deploy_commands) == len(main.__all__)


def test_terraform_and_the_local_bootstrap_read_the_same_topology(repo_infra: Infra) -> None:
    subs = repo_infra.locals["subscriptions"]
    assert {name: int(s["ack_deadline_s"]) for name, s in subs.items()} == {
        s.name: s.ack_deadline_s for s in PUSH_SUBSCRIPTIONS
    }
    assert {30, 60, 120, 300} <= {int(s["ack_deadline_s"]) for s in subs.values()}  # not one value for all
    assert repo_infra.locals["topology"]["topics"] == list(TOPOLOGY.topics)
    schedules = {s["name"]: s["topic"] for s in repo_infra.locals["topology"]["schedules"]}
    assert schedules == {s.name: s.topic for s in TOPOLOGY.schedules}


def test_every_openapi_route_reaches_the_function_the_local_host_routes_it_to(repo_infra: Infra) -> None:
    def regex(template: str) -> re.Pattern[str]:
        pattern = re.escape(template).replace(r"\*\*", ".*")
        pattern = re.sub(r"\\\{\w+=\\\*\\\}", "[^/]+", pattern)
        return re.compile(f"^{pattern}$")

    routes = [(regex(r["template"]), r["function"]) for r in repo_infra.locals["routes"]]
    paths = yaml.safe_load((REPO / "openapi.yaml").read_text())["paths"]
    for path in paths:
        concrete = re.sub(r"\{\w+\}", "x1", path)
        cloud = {fn for pattern, fn in routes if pattern.match(concrete)}
        local = [m.function for m in HTTP_MOUNTS if re.match(m.pattern, concrete)][:1]
        assert cloud == set(local), f"{path}: load balancer -> {cloud}, local host -> {local}"


def test_cloud_armor_denies_dev_paths_and_bans_by_rate(repo_infra: Infra) -> None:
    policy = _resources()["google_compute_security_policy"]["edge"]
    dev = [r for r in policy["rule"] if "'/dev/'" in str(r["match"])]
    assert dev and dev[0]["action"].startswith("deny")
    dynamic = str(policy.get("dynamic", ""))
    assert "sqli-v33-stable" in dynamic and "xss-v33-stable" in dynamic
    assert "rate_based_ban" in dynamic and "local.edge_limits" in dynamic
    limits = repo_infra.locals["edge_limits"]
    assert {"login", "slots", "visits"} <= set(limits)
    assert len({limit["priority"] for limit in limits.values()}) == len(limits)
    # Each function's pattern (RE2, the same syntax here) covers exactly its openapi paths.
    paths = [re.sub(r"\{\w+\}", "x1", p) for p in yaml.safe_load((REPO / "openapi.yaml").read_text())["paths"]]
    for name, limit in limits.items():
        routed = {p for p in paths if any(m.function == name and re.match(m.pattern, p) for m in HTTP_MOUNTS)}
        assert routed and {p for p in paths if re.match(limit["pattern"], p)} == routed, name
    backends = _resources()["google_compute_backend_service"]["fn"]
    assert backends["security_policy"] == "${google_compute_security_policy.edge.id}"
    assert backends["enable_cdn"] == "${each.value.cdn}"


def test_search_s_address_limit_is_per_process_because_the_edge_limits_every_instance_first(
    repo_infra: Infra,
) -> None:
    settings = Settings(deployment="local")
    assert settings.rate_limits_per_process == {"search:ip"}
    functions_tf = (REPO / "infra" / "functions.tf").read_text()
    assert re.search(r'EREG_RATE_LIMITS_PER_PROCESS\s*=\s*jsonencode\(\["search:ip"\]\)', functions_tf)
    edge = yaml.safe_load((REPO / "infra" / "functions.yaml").read_text())["functions"]["slots"]["edge_limit"]
    per_second, _ = settings.rate_limits["search:ip"]
    assert "slots" in repo_infra.locals["edge_limits"] and edge["per_minute"] / 60 <= per_second


# What each negative case changes, and a word its problem must contain.
@dataclass(frozen=True)
class Change:
    what: str
    expect: str
    functions_yaml: Any = None  # callable(dict) -> None
    topology_yaml: Any = None
    exports: frozenset[str] = frozenset()
    resources: Any = None  # callable(dict) -> None
    tf_extra: str = ""
    settings_extra: tuple[str, ...] = ()
    cloudbuild: Any = None


def _add_function(doc: dict[str, Any]) -> None:
    doc["functions"]["ghost"] = {"trigger": "http", "routes": ["/api/v1/ghost"], "memory": "256Mi", "cpu": "1",
                                 "concurrency": 1, "max_instances": 1}  # fmt: skip


def _add_subscription_without_dead_letter(doc: dict[str, Any]) -> None:
    doc["subscriptions"].append({"name": "audit-events-archive", "topic": "audit-events", "function": "notify"})


def _add_subscription_for_no_function(doc: dict[str, Any]) -> None:
    doc["subscriptions"].append({"name": "visit-events-archive", "topic": "visit-events", "function": "archive"})


def _drop_dead_letter_policy(resources: dict[str, Any]) -> None:
    resources["google_pubsub_subscription"]["push"].pop("dead_letter_policy")


def _add_raw_subscription(resources: dict[str, Any]) -> None:
    resources["google_pubsub_subscription"]["extra"] = {"name": "extra", "topic": "${google_pubsub_topic.topic[0].id}"}


def _add_role_level(doc: dict[str, Any]) -> None:
    doc["functions"]["slots"]["access"]["spanner"] = "owner"


def _publish_to_unknown_topic(doc: dict[str, Any]) -> None:
    doc["functions"]["notify"]["access"]["publish"] = ["sms-requests", "push-notifications"]


def _bind_role_outside_declaration(resources: dict[str, Any]) -> None:
    resources["google_project_iam_member"]["extra"] = {
        "project": "${var.project_id}",
        "role": "roles/spanner.databaseUser",
        "member": 'serviceAccount:${google_service_account.fn["slots"].email}',
    }


def _read_undeclared_secret(doc: dict[str, Any]) -> None:
    doc["functions"]["send_sms"]["secrets"].append("sms-provider-password")


def _declare_unread_secret(doc: dict[str, Any]) -> None:
    doc["secrets"]["sms-provider-password"] = "read by nobody"
    doc["functions"]["notify"]["secrets"] = ["sms-provider-password"]  # read, but no such setting


def _secret_nobody_reads(doc: dict[str, Any]) -> None:
    doc["secrets"]["spare-token"] = "read by nobody"


def _route_twice(doc: dict[str, Any]) -> None:
    doc["functions"]["visits"]["routes"].append("/api/v1/slots")


def _drop_deploy_step(cloudbuild: dict[str, Any]) -> None:
    cloudbuild["steps"] = [s for s in cloudbuild["steps"] if s.get("id") != "deploy-functions"]


CHANGES = [
    Change("a function exported but not declared", "does not declare it", exports=frozenset({"open_data_export"})),
    Change("a function declared but not exported", "does not export it", functions_yaml=_add_function),
    Change("a subscription on a topic with no dead-letter topic", "no dead-letter topic",
           topology_yaml=_add_subscription_without_dead_letter),
    Change("a subscription pushing to no function", "no declared event function",
           topology_yaml=_add_subscription_for_no_function),
    Change("a push subscription without its dead-letter policy", "has no dead-letter topic",
           resources=_drop_dead_letter_policy),
    Change("a subscription written straight into Terraform", "extra has no dead-letter topic",
           resources=_add_raw_subscription),
    Change("an access level with no role behind it", "not in local.access_roles", functions_yaml=_add_role_level),
    Change("publishing to a topic that does not exist", "push-notifications", functions_yaml=_publish_to_unknown_topic),
    Change("a role bound outside the declaration", "does not declare", resources=_bind_role_outside_declaration),
    Change("a primitive role", "roles/editor", tf_extra='role = "roles/editor"'),
    Change("a secret read but not declared", "sms-provider-password", functions_yaml=_read_undeclared_secret),
    Change("a secret with no setting behind it", "no SecretStr setting", functions_yaml=_declare_unread_secret),
    Change("a secret nobody reads", "no function reads it", functions_yaml=_secret_nobody_reads),
    Change("a setting not set in the cloud", "EREG_BRAND_NEW", settings_extra=("EREG_BRAND_NEW", "EREG_REDIS_URL")),
    Change("a route served by two functions", "more than one function", functions_yaml=_route_twice),
    Change("no deploy step in Cloud Build", "deploy_functions.py deploy", cloudbuild=_drop_deploy_step),
]  # fmt: skip


@pytest.fixture
def modified(tmp_path: Path) -> Iterator[Path]:
    copy_ = tmp_path / "infra-copy"
    shutil.copytree(INFRA, copy_, ignore=shutil.ignore_patterns(".terraform*", "environments"))
    yield copy_


def _edit_yaml(path: Path, edit: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc))


@pytest.mark.parametrize("change", CHANGES, ids=[c.what for c in CHANGES])
def test_a_counterpart_missing_is_found(change: Change, modified: Path, tmp_path: Path, repo_infra: Infra) -> None:
    if change.functions_yaml:
        _edit_yaml(modified / "functions.yaml", change.functions_yaml)
    if change.topology_yaml:
        _edit_yaml(modified / "topology.yaml", change.topology_yaml)
    resources = copy.deepcopy(_resources())
    if change.resources:
        change.resources(resources)
    if change.functions_yaml or change.topology_yaml:
        infra = build(modified, tmp_path / "tf", resources)
    else:
        infra = replace(repo_infra, resources=resources, cloudbuild=copy.deepcopy(repo_infra.cloudbuild))
    infra.exports = infra.exports | change.exports
    infra.tf_text += "\n" + change.tf_extra
    infra.settings_fields = {**infra.settings_fields, **{name: None for name in change.settings_extra}}
    if change.cloudbuild:
        change.cloudbuild(infra.cloudbuild)
    found = problems(infra)
    assert any(change.expect in p for p in found), found


def test_the_source_package_holds_what_the_functions_import_and_no_tests(tmp_path: Path) -> None:
    deploy = _deploy_module()
    target = tmp_path / "source.zip"
    deploy.package(target)
    names = set(zipfile.ZipFile(target).namelist())
    assert {"main.py", "requirements.txt", "shared/topology.py", "infra/topology.yaml"} <= names
    assert {f"functions/{m.__module__.split('.')[-1]}.py" for m in map(main.__dict__.get, main.__all__)} <= names
    assert not any(n.startswith(("tests/", "bench/", "emulators/", ".venv")) or n.endswith(".pyc") for n in names)


def test_the_topology_file_must_declare_the_topics_the_code_publishes_to(tmp_path: Path) -> None:
    document = yaml.safe_load(topology.TOPOLOGY_FILE.read_text())
    document["topics"].remove("sms-requests")
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ValueError, match="sms-requests"):
        topology.load(path)


def test_every_checkov_skip_sits_in_the_code_with_its_reason() -> None:
    skips = []
    for path in sorted(INFRA.glob("*.tf")):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                match = re.search(r"#\s*checkov:skip=(CKV2?_\w+):(.{20,})", line)
                assert match, f"{path.name}: a checkov skip needs a reason: {line.strip()}"
                skips.append(match.group(1))
    assert skips  # the table in docs/deploy.md lists them
    makefile = (REPO / "Makefile").read_text()
    assert "--skip-check" not in makefile and "--soft-fail" not in makefile
    documented = (REPO / "docs" / "deploy.md").read_text()
    for check in set(skips):
        assert check in documented, f"{check} is skipped but not in docs/deploy.md"


def test_the_redis_url_counts_as_set_for_the_cloud(repo_infra: Infra) -> None:
    # issue 10 adds EREG_REDIS_URL to shared/config.py; the functions with `redis: true` mount it
    infra = replace(repo_infra, settings_fields={**repo_infra.settings_fields, "EREG_REDIS_URL": None})
    assert settings_problems(infra) == []


def test_every_view_fits_the_three_layers_terraform_creates_them_in() -> None:
    """infra/main.tf creates views over tables, then views over those, then over those (BigQuery checks
    what a view reads when it is created); a view needing a fourth layer needs another resource there."""
    directory = INFRA / "schema" / "bigquery"
    views = {path.name.removesuffix(".view.sql"): path.read_text() for path in directory.glob("*.view.sql")}
    reads = {name: {other for other in views if f".{{dataset}}.{other}`" in query} for name, query in views.items()}

    def layer(name: str) -> int:
        return 1 + max((layer(read) for read in reads[name]), default=0)

    assert reads["vaccinations_by_region"] == {"visit_latest"} and layer("vaccinations_by_region") == 3
    assert all(layer(name) <= 3 for name in views), {name: layer(name) for name in views}


def test_the_dcc_signer_is_an_hsm_p256_kms_key_only_its_functions_reach(repo_infra: Infra) -> None:
    """Issue 23: certificates are signed in the cloud by an asymmetric Cloud KMS key (ES256), never
    destroyed by a plan; issue_certificates may sign and certificates read the public key, no one else."""
    key = _resource(repo_infra, "google_kms_crypto_key", "dcc_signer")
    assert key["purpose"] == "ASYMMETRIC_SIGN"
    assert _block(key, "version_template") == {"algorithm": "EC_SIGN_P256_SHA256", "protection_level": "HSM"}
    assert _block(key, "lifecycle").get("prevent_destroy") is True
    assert key["key_ring"] == "${google_kms_key_ring.ereg.id}"
    grants = repo_infra.locals["kms_grants"]
    assert grants == {
        "issue_certificates": "roles/cloudkms.signerVerifier",
        "certificates": "roles/cloudkms.publicKeyViewer",
    }
    member = _resource(repo_infra, "google_kms_crypto_key_iam_member", "fn")
    assert member["crypto_key_id"] == "${google_kms_crypto_key.dcc_signer.id}"
    # The functions find the key version in their environment; locally a key file stands in.
    assert "EREG_DCC_KMS_KEY_VERSION" in _function_environment(repo_infra)
    assert "EREG_DCC_SIGNING_KEY_FILE" in repo_infra.declaration["local_only_settings"]
    assert "cloudkms.googleapis.com" in repo_infra.tf_text


# --- issue 24: what breaks the first apply or the first weeks ----------------------------------
# Each test reads the parsed Terraform (or the data files it reads) and says, with the provider's
# documentation, what the resource must hold.


def _fn_resource() -> dict[str, Any]:
    return _resources()["google_cloudfunctions2_function"]["fn"]


def test_serverless_negs_name_the_service_by_its_short_name() -> None:
    # google_compute_region_network_endpoint_group cloud_run.service is the Cloud Run service's name;
    # a gen2 function's service_config.service is its full path (projects/P/locations/R/services/S),
    # while the function's own name is the service's short name.
    neg = _resources()["google_compute_region_network_endpoint_group"]["fn"]
    service = _block(neg, "cloud_run").get("service")
    assert service == "${google_cloudfunctions2_function.fn[each.key].name}", service


def test_functions_wait_for_the_redis_url_version_and_every_secret_has_a_deploy_step() -> None:
    depends = str(_fn_resource().get("depends_on"))
    assert "google_secret_manager_secret_version.redis_url" in depends
    deploy = (REPO / "docs" / "deploy.md").read_text()
    declared = yaml.safe_load((INFRA / "functions.yaml").read_text())["secrets"]
    for secret in declared:
        assert re.search(rf"gcloud secrets versions add {re.escape(secret)}\b", deploy), secret


def test_functions_build_as_a_build_service_account_of_their_own() -> None:
    build = _block(_fn_resource(), "build_config")
    assert build.get("service_account") == "${google_service_account.build.id}"
    account = _resources()["google_service_account"]["build"]
    assert account["account_id"] == "ereg-functions-build"
    binding = _resources()["google_project_iam_member"]["build"]
    assert binding["member"] == "serviceAccount:${google_service_account.build.email}"
    roles = set(re.findall(r"roles/[\w.]+", binding["for_each"]))
    assert {"roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectViewer"} <= roles
    # Cloud Build's redeploys build as the same account.
    deploy = _deploy_module()
    command = deploy.deployments(yaml.safe_load((INFRA / "functions.yaml").read_text()))[0].command(
        "P", "R", "gs://b/s"
    )
    build_account = "projects/P/serviceAccounts/ereg-functions-build@P.iam.gserviceaccount.com"
    assert f"--build-service-account={build_account}" in command


def test_push_subscriptions_carry_the_function_url_as_audience_and_never_expire() -> None:
    push = _resources()["google_pubsub_subscription"]["push"]
    token = _block(push, "push_config", "oidc_token")
    assert token.get("audience") == "${google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri}"
    assert _block(push, "expiration_policy").get("ttl") == ""  # "" never expires; absent is 31 days


def test_session_timestamps_are_exempt_from_indexing() -> None:
    from datetime import UTC, datetime, timedelta

    from shared.adapters.firestore_db import SESSIONS, _session_document
    from shared.domain.identity import Role, Session

    declared = yaml.safe_load((INFRA / "firestore.yaml").read_text())["collections"][SESSIONS]
    now = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    session = Session(session_id="s", roles=frozenset({Role.PATIENT}), created_at=now,
                      expires_at=now + timedelta(hours=2), last_seen_at=now, secret_hash="h")  # fmt: skip
    written = _session_document(session)
    stamps = {name for name, value in written.items() if isinstance(value, datetime)} | {"revoked_at"}
    assert stamps <= set(declared["unindexed"]), stamps - set(declared["unindexed"])
    # Terraform exempts exactly the declared fields (an empty index_config disables every index).
    exempt = _resources()["google_firestore_field"]["unindexed"]
    assert "local.firestore_unindexed" in exempt["for_each"] and exempt["index_config"] == [{}]
    ttl = _resources()["google_firestore_field"]["session_ttl"]
    assert ttl["field"] == declared["ttl_field"] and ttl["index_config"] == [{}]


def test_the_pubsub_service_agent_is_created_before_it_is_bound() -> None:
    identity = _resources()["google_project_service_identity"]["pubsub"]
    assert identity["service"] == "pubsub.googleapis.com" and identity["provider"] == "google-beta"
    main_tf = (INFRA / "main.tf").read_text()
    agent = r'pubsub_service_agent\s*=\s*"serviceAccount:\$\{google_project_service_identity\.pubsub\.email\}"'
    assert re.search(agent, main_tf)
    assert "gcp-sa-pubsub" not in main_tf


def test_gcloud_s_log_execution_id_is_set_by_terraform_too() -> None:
    # gcloud functions deploy sets LOG_EXECUTION_ID=true on gen2 functions; without it here every
    # plan after a Cloud Build deploy shows a diff on every function.
    assert re.search(r'^\s*LOG_EXECUTION_ID\s*=\s*"true"', (INFRA / "functions.tf").read_text(), re.MULTILINE)


SPANNER_SCHEMA = INFRA / "schema" / "spanner"
DDL_LOCK = SPANNER_SCHEMA / "ddl.lock"
DROPS = re.compile(r"^\s*(DROP\s+(TABLE|INDEX)\s+(\w+)|ALTER\s+TABLE\s+\w+\s+DROP\s+(COLUMN\s+)?(\w+))", re.I)


def spanner_statements(directory: Path = SPANNER_SCHEMA) -> list[tuple[str, str]]:
    """(file, statement) as infra/main.tf local.spanner_ddl reads them: comments gone, split on ';'."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        for statement in re.sub(r"--[^\n]*", "", path.read_text()).split(";"):
            if statement.strip():
                found.append((path.name, statement.strip()))
    return found


def ddl_lock_line(file: str, statement: str) -> str:
    return f"{hashlib.sha256(statement.encode()).hexdigest()} {file} {' '.join(statement.split()[:4])}"


def migration_problems(directory: Path, code: str) -> list[str]:
    """Terraform's DDL list may only grow (changing a statement replaces the database, which deletion
    protection then refuses), and it expands before it contracts: nothing the code still names is
    dropped, a drop says why it is safe, and nothing is renamed or made NOT NULL without a default."""
    found: list[str] = []
    lock = (directory / DDL_LOCK.name).read_text().splitlines()
    locked = [line.split()[0] for line in lock if line and not line.startswith("#")]
    statements = spanner_statements(directory)
    current = [hashlib.sha256(s.encode()).hexdigest() for _, s in statements]
    for index, digest in enumerate(locked):
        if index >= len(current) or current[index] != digest:
            found.append(f"statement {index + 1} of the applied DDL changed or went: add a new migration instead")
            break
    for file, statement in statements[len(locked) :]:
        found.append(f"new statement not in {DDL_LOCK.name}; once reviewed, append: {ddl_lock_line(file, statement)}")
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text()
        for statement in re.sub(r"--[^\n]*", "", text).split(";"):
            drop = DROPS.match(statement)
            if drop:
                name = drop.group(3) or drop.group(5)
                if re.search(rf"\b{name}\b", code):
                    found.append(f"{path.name} drops {name}, which the code still uses: stop using it first")
                if "-- contract:" not in text:
                    found.append(f"{path.name} drops {name} without a '-- contract:' note: since when is it unused?")
            if re.search(r"\bRENAME\b", statement, re.I):
                found.append(f"{path.name} renames: add the new name, copy, then drop the old one in a later release")
            if re.search(r"\bADD\s+(COLUMN\s+)?\w+\s+[^,]*\bNOT\s+NULL\b(?![^,]*\bDEFAULT\b)", statement, re.I):
                found.append(f"{path.name} adds a NOT NULL column without a DEFAULT: the running release cannot insert")
    return found  # fmt: skip


def _application_code() -> str:
    return "\n".join(p.read_text() for d in ("shared", "functions") for p in sorted((REPO / d).rglob("*.py")))


def test_the_spanner_ddl_only_grows_and_expands_before_it_contracts(repo_infra: Infra, tmp_path: Path) -> None:
    # The statements this test reads are those Terraform applies (local.spanner_ddl, evaluated).
    assert [s for _, s in spanner_statements()] == repo_infra.locals["spanner_ddl"]
    assert migration_problems(SPANNER_SCHEMA, _application_code()) == []

    edited = tmp_path / "spanner"
    shutil.copytree(SPANNER_SCHEMA, edited)
    initial = edited / "0001_initial.sql"
    initial.write_text(initial.read_text().replace("Pesel STRING(11) NOT NULL", "Pesel STRING(12) NOT NULL", 1))
    assert any("changed or went" in p for p in migration_problems(edited, _application_code()))

    shutil.rmtree(edited)
    shutil.copytree(SPANNER_SCHEMA, edited)
    (edited / "0999_contract.sql").write_text("ALTER TABLE Visits DROP COLUMN PointId;\n")
    found = migration_problems(edited, _application_code())
    assert any("still uses" in p for p in found) and any("contract" in p for p in found)
    assert any("append: " in p and "0999_contract.sql" in p for p in found)
    (edited / "0999_contract.sql").write_text("ALTER TABLE Visits ADD COLUMN Channel STRING(10) NOT NULL;\n")
    assert any("NOT NULL column" in p for p in migration_problems(edited, _application_code()))


# --- issue 24: keep the data, watch it, pay for it ----------------------------------------------


def _all(kind: str) -> dict[str, dict[str, Any]]:
    return _resources().get(kind, {})


def test_both_databases_back_up_daily_for_30_days_recover_7_days_and_refuse_deletion() -> None:
    thirty_days = str(30 * 24 * 3600) + "s"
    backups_tf = (INFRA / "backups.tf").read_text()
    assert re.search(rf'backup_retention\s*=\s*"{thirty_days}"', backups_tf)
    spanner = _all("google_spanner_backup_schedule")["daily"]
    assert spanner["retention_duration"] == "${local.backup_retention}" and "full_backup_spec" in spanner
    cron = _block(spanner, "spec", "cron_spec")["text"].split()
    assert len(cron) == 5 and cron[2:] == ["*", "*", "*"]  # every day
    firestore = _all("google_firestore_backup_schedule")["daily"]
    assert firestore["retention"] == "${local.backup_retention}" and "daily_recurrence" in firestore
    database = _all("google_spanner_database")["ereg"]
    assert database["version_retention_period"] == "7d"
    assert database["deletion_protection"] is True and database["enable_drop_protection"] is True
    fs = _all("google_firestore_database")["default"]
    assert fs["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert fs["delete_protection_state"] == "DELETE_PROTECTION_ENABLED" and fs["deletion_policy"] == "ABANDON"


def test_login_search_and_booking_have_slos_with_two_burn_rate_alerts_each(repo_infra: Infra) -> None:
    slos = repo_infra.locals["slo_kinds"]
    functions = repo_infra.locals["functions"]
    assert {(s["journey"], s["kind"]) for s in slos.values()} == {
        (j, k) for j in ("login", "search", "booking") for k in ("availability", "latency")
    }
    routes = {s["journey"]: functions[s["function"]]["routes"] for s in slos.values()}
    assert "/api/v1/login" in routes["login"] and "/api/v1/slots" in routes["search"]
    assert "/api/v1/visits" in routes["booking"]
    slo = _all("google_monitoring_slo")["journey"]
    assert slo["for_each"] == "${local.slo_kinds}"
    text = str(slo)
    assert (
        "run.googleapis.com/request_count" in text and "5xx" in text and "run.googleapis.com/request_latencies" in text
    )
    alerts = repo_infra.locals["slo_burn_alerts"]
    assert len(alerts) == 2 * len(slos)
    assert {(a["window"], a["threshold"]) for a in alerts.values()} == {("3600s", 14.4), ("21600s", 6)}
    burn = _all("google_monitoring_alert_policy")["slo_burn"]
    assert "select_slo_burn_rate(" in str(burn) and burn["notification_channels"] == "${local.page_channels}"


def test_the_alerts_the_issue_lists_exist_and_page_beyond_email() -> None:
    policies = _all("google_monitoring_alert_policy")
    filters = {name: str(p.get("conditions")) for name, p in policies.items()}
    wanted = {
        "oldest_unacked": "pubsub.googleapis.com/subscription/oldest_unacked_message_age",
        "dead_letters": "num_undelivered_messages",
        "spanner_cpu": "spanner.googleapis.com/instance/cpu/utilization_by_priority",
        "redis_memory": "redis.googleapis.com/stats/memory/usage_ratio",
        "max_instances": "run.googleapis.com/container/instance_count",
        "armor_bans": "logging.googleapis.com/user/",
    }
    for name, metric in wanted.items():
        assert metric in filters.get(name, ""), name
    assert "0.65" in filters["spanner_cpu"] and policies["max_instances"]["for_each"] == "${local.functions}"
    assert "RATE_BASED_BAN" in _all("google_logging_metric")["armor_bans"]["filter"]
    pager = _all("google_monitoring_notification_channel")["pager"]
    assert pager["type"] != "email" and "sensitive_labels" in pager
    assert all(p["notification_channels"] == "${local.page_channels}" for p in policies.values())
    assert "google_monitoring_notification_channel.pager.id" in (INFRA / "observability.tf").read_text()


def test_a_billing_budget_alerts_on_spend_and_forecast() -> None:
    budget = _all("google_billing_budget")["project"]
    thresholds = [r["threshold_percent"] for r in budget["threshold_rules"]]
    assert {0.5, 0.9, 1.0} <= set(thresholds)
    assert any(r.get("spend_basis") == "FORECASTED_SPEND" for r in budget["threshold_rules"])
    assert _block(budget, "all_updates_rule")["monitoring_notification_channels"] == "${local.page_channels}"
    assert "billingbudgets.googleapis.com" in (INFRA / "apis.tf").read_text()


def test_functions_that_write_spanner_get_a_custom_role_without_ddl(repo_infra: Infra) -> None:
    role = _all("google_project_iam_custom_role")["spanner_data_writer"]
    permissions = set(role["permissions"])
    assert {"spanner.databases.write", "spanner.databases.read", "spanner.sessions.create"} <= permissions
    assert not {
        p for p in permissions if "Ddl" in p or (p.endswith((".create", ".drop", ".update")) and "sessions" not in p)
    }
    assert repo_infra.locals["access_roles"]["spanner"]["write"] == role["role_id"]
    binding = _all("google_spanner_database_iam_member")["fn"]
    assert binding["role"] == "${lookup(local.custom_roles, each.value, each.value)}"
    assert "roles/spanner.databaseUser" not in repo_infra.tf_text


def test_redis_speaks_tls_and_its_auth_string_goes_only_to_secret_manager(tmp_path: Path) -> None:
    import redis

    instance = _all("google_redis_instance")["ereg"]
    assert instance["transit_encryption_mode"] == "SERVER_AUTHENTICATION" and instance["auth_enabled"] is True
    version = _all("google_secret_manager_secret_version")["redis_url"]
    assert "secret_data" not in version and version["secret_data_wo"].startswith("rediss://:")
    assert "urlencode(google_redis_instance.ereg.auth_string)" in version["secret_data_wo"]
    # A replaced instance (new address) writes the secret again without anyone remembering to.
    assert "google_redis_instance.ereg.create_time" in version["secret_data_wo_version"]
    assert "var.redis_url_version" in version["secret_data_wo_version"]
    # The URL's TLS settings, as the redis client the functions use reads them.
    query = re.search(r'redis_tls_query\s*=\s*"(.+)"\n', (INFRA / "redis.tf").read_text()).group(1)  # type: ignore[union-attr]
    assert "${urlencode(" in query and "server_ca_certs" in query
    pem = "-----BEGIN CERTIFICATE-----\nMIIB+z/Q==\n-----END CERTIFICATE-----"
    (tmp_path / "main.tf").write_text("locals {}\n")
    encoded = _console(tmp_path, f"urlencode({json.dumps(pem)})")  # as Terraform encodes it
    assert encoded != ERROR and "+" in encoded  # spaces become '+', a '+' of base64 '%2B'
    query = re.sub(r"\$\{urlencode\(.*\)\}", lambda _: str(encoded), query)
    client = redis.Redis.from_url(f"rediss://:auth@10.0.0.3:6378/0?{query}")
    kwargs = client.connection_pool.connection_kwargs
    assert client.connection_pool.connection_class is redis.SSLConnection
    assert kwargs["ssl_ca_data"] == pem and kwargs["ssl_cert_reqs"] == "required"


# --- issue 24: release safety ------------------------------------------------------------------


class FakeGcloud:
    """Answers the gcloud calls infra/deploy_functions.py makes, as Cloud Run would; keeps them."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.calls: list[list[str]] = []
        self.failing = failing  # services whose deploy fails

    def __call__(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(command)
        service = command[3] if command[1] == "functions" else command[4]
        out, code = "", 0
        if command[1:4] == ["run", "services", "describe"]:
            if "--format=json(status.traffic)" in command:
                out = json.dumps({"status": {"traffic": [{"revisionName": f"{service}-00007-old", "percent": 100}]}})
            else:
                out = f"{service}-00008-new\n"
        elif command[1] == "functions" and service in self.failing:
            code = 1
        return subprocess.CompletedProcess(command, code, out, "")

    def traffic(self) -> dict[str, str]:
        return {c[4]: c[7] for c in self.calls if c[1:4] == ["run", "services", "update-traffic"]}


def test_a_canary_gives_the_new_revisions_a_share_and_rollback_restores_the_recorded_ones(tmp_path: Path) -> None:
    deploy = _deploy_module()
    gcloud, record = FakeGcloud(), tmp_path / "previous.json"
    assert deploy.deploy("P", "R", "gs://b/s.zip", False, record=record, traffic_percent=10, run=gcloud) == 0
    services = {d.service_name for d in deploy.deployments(deploy.load_declaration())}
    assert json.loads(record.read_text()) == {s: f"{s}-00007-old" for s in services}
    assert gcloud.traffic() == {s: f"--to-revisions={s}-00008-new=10,{s}-00007-old=90" for s in services}
    # Every function was deployed before its split.
    order = [(c[1], c[3] if c[1] == "functions" else c[4]) for c in gcloud.calls if "describe" not in c]
    assert all(order.index(("functions", s)) < order.index(("run", s)) for s in services)

    back = FakeGcloud()
    assert deploy.rollback("P", "R", record, run=back) == 0
    assert back.traffic() == {s: f"--to-revisions={s}-00007-old=100" for s in services}
    ahead = FakeGcloud()
    assert deploy.promote("P", "R", run=ahead) == 0
    assert all("--to-latest" in c for c in ahead.calls) and len(ahead.calls) == len(services)


def test_a_failed_deploy_is_reported_and_gets_no_split(tmp_path: Path) -> None:
    deploy = _deploy_module()
    gcloud = FakeGcloud(failing=frozenset({"visits"}))
    assert deploy.deploy("P", "R", "gs://b/s.zip", False, traffic_percent=10, run=gcloud) == 1
    assert "visits" not in gcloud.traffic() and "slots" in gcloud.traffic()


def _steps(path: str) -> dict[str, str]:
    """Step id -> its script (args joined), of a Cloud Build file."""
    document = yaml.safe_load((REPO / path).read_text())
    return {s["id"]: " ".join(map(str, s.get("args", []))) for s in document["steps"]}


def _images(path: str) -> set[str]:
    document = yaml.safe_load((REPO / path).read_text())
    subs = document.get("substitutions", {})
    return {
        re.sub(r"\$\{(_\w+)\}", lambda m: str(subs.get(m.group(1), m.group(0))), s["name"]) for s in document["steps"]
    }


def test_ci_tests_on_the_functions_python_with_pinned_images() -> None:
    build = yaml.safe_load((REPO / "cloudbuild.yaml").read_text())
    version = build["substitutions"]["_PYTHON_VERSION"]
    runtime = _deploy_module().RUNTIME
    assert runtime == "python" + "".join(version.split(".")[:2])  # python311 <-> 3.11.x
    assert f'runtime     = "{runtime}"' in (INFRA / "functions.tf").read_text()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version) and re.fullmatch(
        r"\d+\.\d+\.\d+", build["substitutions"]["_UV_VERSION"]
    )
    install = _steps("cloudbuild.yaml")["install"]
    assert "uv python install ${_PYTHON_VERSION}" in install and 'PYTHON="$$(' in install
    assert 'sys.exit(v != "${_PYTHON_VERSION}")' in install  # the venv is checked to be that Python
    for path in ("cloudbuild.yaml", "cloudbuild-promote.yaml"):
        for image in _images(path):
            assert re.search(r":\d+(\.\d+)+(-\w+)?$", image), f"{path}: {image} is not pinned to a version"


def test_main_keeps_one_release_and_production_promotes_it_without_building() -> None:
    ci = _steps("cloudbuild.yaml")
    assert (
        "gcloud storage cp --no-clobber source.zip web-bundle.tar.gz gs://${_RELEASE_BUCKET}/releases/${COMMIT_SHA}/"
        in ci["package"]
    )
    assert ci["package"].count("deploy_functions.py package") == 1
    promote = _steps("cloudbuild-promote.yaml")
    everything = " ".join(promote.values())
    assert "deploy_functions.py package" not in everything and "pytest" not in everything and "npm" not in everything
    assert "releases/${COMMIT_SHA}" in promote["fetch-release"] and "staging-passed" in promote["fetch-release"]
    assert "exit 1" in promote["fetch-release"]  # refused without the staging mark
    assert "--source=gs://${_SOURCE_BUCKET}/source-${COMMIT_SHA}.zip" in promote["canary"]
    # BRANCH_NAME is empty on a tag: the promotion never depends on it.
    assert "BRANCH_NAME" not in everything
    staging = ci["smoke-test"]
    secret_env = {
        s["id"]: s.get("secretEnv", []) for s in yaml.safe_load((REPO / "cloudbuild.yaml").read_text())["steps"]
    }
    assert {"EREG_SMOKE_PESEL", "EREG_SMOKE_PHONE"} <= set(secret_env["smoke-test"])  # tools/identity_token.py
    assert "staging-passed" in staging and staging.index("rollback") < staging.index("staging-passed")


def test_deploys_are_canaries_smoke_tested_through_the_load_balancer_and_rolled_back(repo_infra: Infra) -> None:
    ci, promote = _steps("cloudbuild.yaml"), _steps("cloudbuild-promote.yaml")
    for deploy in (ci["deploy-functions"], promote["canary"]):
        assert "--record=previous-revisions.json --traffic-percent=${_CANARY_PERCENT}" in deploy
    smoke = ci["smoke-test"]
    assert "tools.smoke_test --base-url=https://${_DOMAIN}" in smoke and "--read-only" not in smoke  # it books
    assert "deploy_functions.py rollback" in smoke and "--to=previous-revisions.json" in smoke
    watch = promote["smoke-and-watch"]
    assert "--read-only" in watch and "--for-minutes=${_CANARY_MINUTES}" in watch and "rollback" in watch
    order = list(promote)
    assert order.index("canary") < order.index("smoke-and-watch") < order.index("promote") < order.index("publish-web")
    # The tag trigger waits for a person's approval.
    triggers = repo_infra.locals["triggers"]
    assert triggers["production"]["approval"] is True and triggers["staging"]["approval"] is False
    assert triggers["production"]["filename"] == "cloudbuild-promote.yaml" and triggers["production"]["branch"] is None
    assert re.fullmatch(triggers["production"]["tag"], "v1.2.3") and not re.fullmatch(
        triggers["production"]["tag"], "main"
    )
    trigger = _all("google_cloudbuild_trigger")["release"]
    assert _block(trigger, "approval_config")["approval_required"] == "${each.value.approval}"
    assert _block(trigger, "github", "push")["tag"] == "${each.value.tag}"


def test_html_is_never_cached_for_minutes_and_old_assets_stay() -> None:
    for path in ("cloudbuild.yaml", "cloudbuild-promote.yaml"):
        publish = _steps(path)["publish-web"]
        assert "--delete-unmatched-destination-objects" not in publish, path
        assets = publish.index("--exclude='.*\\.html$$'")
        pages = publish.index("--exclude='^(?!.*\\.html$$).*'")
        assert assets < pages and "--cache-control=no-cache" in publish[pages:], path
        assert "max-age" not in publish[pages:], path
    # The exclusions, as gcloud storage rsync applies them (Python regular expressions on the path).
    html_excluded = re.compile(".*\\.html$")
    non_html_excluded = re.compile("^(?!.*\\.html$).*")
    assert html_excluded.match("agent/index.html") and not html_excluded.match("common/app.js")
    assert non_html_excluded.match("common/app.js") and not non_html_excluded.match("agent/index.html")
    bucket = _all("google_compute_backend_bucket")["web"]
    assert _block(bucket, "cdn_policy")["cache_mode"] == "USE_ORIGIN_HEADERS"


def test_an_older_commit_can_never_replace_the_database() -> None:
    database = _all("google_spanner_database")["ereg"]
    assert _block(database, "lifecycle")["prevent_destroy"] is True
    promote = _steps("cloudbuild-promote.yaml")
    assert '"${_SKIP_TERRAFORM}" = true' in promote["terraform-apply"]  # a rollback deploys code only


def test_the_runbook_covers_every_secret_and_names_only_tools_that_exist() -> None:
    runbook = (REPO / "docs" / "runbook.md").read_text()
    declared = yaml.safe_load((INFRA / "functions.yaml").read_text())["secrets"]
    for secret in [*declared, "redis-url", "pagerduty-service-key"]:
        assert re.search(rf"^\| `{re.escape(secret)}`", runbook, re.MULTILINE), f"no rotation for {secret}"
    for heading in ("Deploy to a fresh project", "Promote", "Roll back", "Restore from backup", "Rotate a secret",
                    "Replay dead-lettered messages", "Maintenance notice"):  # fmt: skip
        assert re.search(rf"^## \d+\. {heading}", runbook, re.MULTILINE), heading
    texts = runbook + (REPO / "docs" / "deploy.md").read_text()
    texts += (REPO / "cloudbuild.yaml").read_text() + (REPO / "cloudbuild-promote.yaml").read_text()
    named = set(re.findall(r"-m tools\.(\w+)", texts)) | set(re.findall(r"\btools/(\w+)\.(?:py|sh)", texts))
    assert {"smoke_test", "replay_dead_letters", "identity_token", "web_bundle", "restore_drill"} <= named
    for tool in named:
        assert (REPO / "tools" / f"{tool}.py").exists() or (REPO / "tools" / f"{tool}.sh").exists(), tool


def test_every_substitution_is_declared_and_used_as_must_match_requires() -> None:
    for path in ("cloudbuild.yaml", "cloudbuild-promote.yaml"):
        text = (REPO / path).read_text()
        document = yaml.safe_load(text)
        assert document["options"]["substitutionOption"] == "MUST_MATCH"
        declared = set(document["substitutions"])
        body = text.split("\nsteps:", 1)[1] + yaml.safe_dump(document.get("availableSecrets", {}))
        used = set(re.findall(r"(?<!\$)\$\{(_\w+)\}", body))
        used |= {v for value in document["substitutions"].values() for v in re.findall(r"\$\{(_\w+)\}", str(value))}
        assert used == declared, (path, sorted(used ^ declared))
    triggers = (INFRA / "ci.tf").read_text()
    passed = set(re.findall(r"^\s*(_[A-Z_]+)\s*=", triggers, re.MULTILINE))
    for path in ("cloudbuild.yaml", "cloudbuild-promote.yaml"):
        assert passed <= set(yaml.safe_load((REPO / path).read_text())["substitutions"]), path


def test_the_cloud_sets_every_rate_limit_the_code_knows() -> None:
    # EREG_RATE_LIMITS replaces the defaults whole: a scope missing there has no limit in the cloud.
    from shared.config import Settings

    text = (INFRA / "functions.tf").read_text()
    block = text[text.index("EREG_RATE_LIMITS = jsonencode({") :]
    block = block[: block.index("})")]
    declared = set(re.findall(r'"([a-z_]+:(?:ip|user))"\s*=', block))
    assert declared == set(Settings.model_fields["rate_limits"].default)
