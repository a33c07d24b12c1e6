"""Package the repository and deploy the code of every function of ``infra/functions.yaml``.

Cloud Build's ``package`` and ``deploy`` steps (``cloudbuild.yaml``) run this. Terraform owns each
function's configuration (service account, settings, secrets, sizing, network) and creates it; this
deploys new code into it, one ``gcloud functions deploy`` per function, from the repository root
with the function's entry point. Adding a function to ``functions.yaml`` adds its deploy here.

    python infra/deploy_functions.py package source.zip
    python infra/deploy_functions.py deploy --project P --region R --source gs://B/source-SHA.zip [--dry-run]
        [--record previous.json] [--traffic-percent 10]
    python infra/deploy_functions.py promote --project P --region R
    python infra/deploy_functions.py rollback --project P --region R --to previous.json

A release is deployed as a canary: ``--record`` first writes which revision of each function serves
now, the deploy creates the new revisions, and ``--traffic-percent`` then gives the new ones only
that share (a gen2 function's traffic is its Cloud Run service's; a deploy sends all of it to the
new revision, so the split follows each deploy at once). After the checks, ``promote`` sends all
traffic to the new revisions, or ``rollback`` back to the recorded ones. Rolling back to an older
release redeploys that release's own source archive (Cloud Build keeps each); Terraform is not run
for it, so the schema stays as it is (the migrations are expand-then-contract: older code works on
the newer schema).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DECLARATION = REPO / "infra" / "functions.yaml"
RUNTIME = "python311"
BUILD_ACCOUNT = "ereg-functions-build"  # infra/build.tf
# What ships with every function: the entry points, the core, and the data files the core reads.
SOURCE = ("main.py", "requirements.txt", "functions", "shared", "infra/topology.yaml")


@dataclass(frozen=True)
class Deployment:
    function: str  # key in functions.yaml and the entry point's default
    service_name: str
    entry_point: str
    service_account: str

    def command(self, project: str, region: str, source: str) -> list[str]:
        return [
            "gcloud", "functions", "deploy", self.service_name,
            "--gen2", f"--project={project}", f"--region={region}", f"--runtime={RUNTIME}",
            f"--source={source}", f"--entry-point={self.entry_point}", "--trigger-http",
            f"--service-account={self.service_account}@{project}.iam.gserviceaccount.com",
            f"--build-service-account=projects/{project}/serviceAccounts/{BUILD_ACCOUNT}@{project}.iam.gserviceaccount.com",
            "--quiet",
        ]  # fmt: skip


def service_name(function: str) -> str:
    return function.replace("_", "-")


def deployments(declaration: dict[str, Any]) -> list[Deployment]:
    """One deployment per declared function (the service account is the one infra/iam.tf creates)."""
    return [
        Deployment(
            function=name,
            service_name=service_name(name),
            entry_point=spec.get("entry_point", name),
            service_account=f"ereg-{service_name(name)}",
        )
        for name, spec in declaration["functions"].items()
    ]


def load_declaration(path: Path = DECLARATION) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def source_files(root: Path = REPO) -> list[Path]:
    files: list[Path] = []
    for entry in SOURCE:
        path = root / entry
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [p for p in candidates if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return files


def package(target: Path, root: Path = REPO) -> int:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        files = source_files(root)
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return len(files)


Run = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    print(f"+ {shlex.join(command)}", flush=True)
    return subprocess.run(command, check=False, capture_output=True, text=True)


def serving_revision(project: str, region: str, service: str, run: Run = _run) -> str | None:
    """The revision taking the largest share of the service's traffic now (None before the first deploy)."""
    done = run(["gcloud", "run", "services", "describe", service, f"--project={project}", f"--region={region}",
                "--format=json(status.traffic)"])  # fmt: skip
    if done.returncode:
        return None
    traffic = json.loads(done.stdout or "{}").get("status", {}).get("traffic", [])
    serving = [t for t in traffic if t.get("revisionName") and t.get("percent")]
    return str(max(serving, key=lambda t: t["percent"])["revisionName"]) if serving else None


def newest_revision(project: str, region: str, service: str, run: Run = _run) -> str:
    done = run(["gcloud", "run", "services", "describe", service, f"--project={project}", f"--region={region}",
                "--format=value(status.latestReadyRevisionName)"])  # fmt: skip
    if done.returncode or not done.stdout.strip():
        raise RuntimeError(f"{service}: no ready revision")
    return done.stdout.strip()


def split_command(project: str, region: str, service: str, shares: dict[str, int]) -> list[str]:
    revisions = ",".join(f"{revision}={percent}" for revision, percent in shares.items())
    return ["gcloud", "run", "services", "update-traffic", service, f"--project={project}", f"--region={region}",
            f"--to-revisions={revisions}", "--quiet"]  # fmt: skip


def deploy(
    project: str,
    region: str,
    source: str,
    dry_run: bool,
    parallel: int = 4,
    record: Path | None = None,
    traffic_percent: int = 100,
    run: Run = _run,
) -> int:
    if not 0 < traffic_percent <= 100:
        raise ValueError("traffic_percent must be 1..100")
    targets = deployments(load_declaration())
    commands = [d.command(project, region, source) for d in targets]
    if dry_run:
        for command in commands:
            print(shlex.join(command))
        return 0
    previous = {d.service_name: serving_revision(project, region, d.service_name, run) for d in targets}
    if record is not None:
        record.write_text(json.dumps(previous, indent=2, sort_keys=True))

    def one(target: Deployment) -> int:
        code = run(target.command(project, region, source)).returncode
        old = previous[target.service_name]
        if code or traffic_percent == 100 or old is None:
            return code
        new = newest_revision(project, region, target.service_name, run)
        shares = {new: traffic_percent, old: 100 - traffic_percent}
        return run(split_command(project, region, target.service_name, shares)).returncode

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        codes = list(pool.map(one, targets))
    failed = [d.service_name for d, code in zip(targets, codes, strict=True) if code]
    if failed:
        print(f"deploy failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def promote(project: str, region: str, run: Run = _run) -> int:
    """All traffic to the newest revision of every function."""

    def to_latest(service: str) -> list[str]:
        return ["gcloud", "run", "services", "update-traffic", service, f"--project={project}",
                f"--region={region}", "--to-latest", "--quiet"]  # fmt: skip

    failed = [d.service_name for d in deployments(load_declaration()) if run(to_latest(d.service_name)).returncode]
    if failed:
        print(f"promote failed for: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def rollback(project: str, region: str, recorded: Path, run: Run = _run) -> int:
    """All traffic back to the revisions ``deploy --record`` wrote down (a function new in this
    release has none: it keeps its only revision)."""
    previous: dict[str, str | None] = json.loads(recorded.read_text())
    failed = [
        service
        for service, revision in sorted(previous.items())
        if revision and run(split_command(project, region, service, {revision: 100})).returncode
    ]
    if failed:
        print(f"rollback failed for: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("package", help="zip what every function ships")
    pack.add_argument("target", type=Path)
    dep = commands.add_parser("deploy", help="deploy the code of every declared function")
    dep.add_argument("--project", required=True)
    dep.add_argument("--region", required=True)
    dep.add_argument("--source", required=True, help="gs:// URL of the zip that `package` made")
    dep.add_argument("--dry-run", action="store_true", help="print the commands only")
    dep.add_argument("--record", type=Path, help="write the revisions serving now (for rollback) to this file")
    dep.add_argument("--traffic-percent", type=int, default=100, help="the new revisions' share (a canary)")
    pro = commands.add_parser("promote", help="all traffic to the newest revisions")
    back = commands.add_parser("rollback", help="all traffic back to the recorded revisions")
    back.add_argument("--to", type=Path, required=True, help="the file `deploy --record` wrote")
    for sub in (pro, back):
        sub.add_argument("--project", required=True)
        sub.add_argument("--region", required=True)
    args = parser.parse_args(argv)
    if args.command == "package":
        print(f"{args.target}: {package(args.target)} files")
        return 0
    if args.command == "promote":
        return promote(args.project, args.region)
    if args.command == "rollback":
        return rollback(args.project, args.region, args.to)
    return deploy(args.project, args.region, args.source, args.dry_run, record=args.record,
                  traffic_percent=args.traffic_percent)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
