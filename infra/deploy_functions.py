"""Package the repository and deploy the code of every function of ``infra/functions.yaml``.

Cloud Build's ``package`` and ``deploy`` steps (``cloudbuild.yaml``) run this. Terraform owns each
function's configuration (service account, settings, secrets, sizing, network) and creates it; this
deploys new code into it, one ``gcloud functions deploy`` per function, from the repository root
with the function's entry point. Adding a function to ``functions.yaml`` adds its deploy here.

    python infra/deploy_functions.py package source.zip
    python infra/deploy_functions.py deploy --project P --region R --source gs://B/source-SHA.zip [--dry-run]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import zipfile
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


def deploy(project: str, region: str, source: str, dry_run: bool, parallel: int = 4) -> int:
    commands = [d.command(project, region, source) for d in deployments(load_declaration())]
    if dry_run:
        for command in commands:
            print(shlex.join(command))
        return 0

    def run(command: list[str]) -> int:
        print(f"+ {shlex.join(command)}", flush=True)
        return subprocess.run(command, check=False).returncode

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        codes = list(pool.map(run, commands))
    failed = [c[3] for c, code in zip(commands, codes, strict=True) if code]
    if failed:
        print(f"deploy failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


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
    args = parser.parse_args(argv)
    if args.command == "package":
        print(f"{args.target}: {package(args.target)} files")
        return 0
    return deploy(args.project, args.region, args.source, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
