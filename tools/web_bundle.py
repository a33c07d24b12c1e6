"""Lays out the web apps as the bucket behind the load balancer serves them (Cloud Build uploads it).

    python -m tools.web_bundle OUT_DIR --login-url https://login.example/authorize
    python -m tools.web_bundle OUT_DIR --login-url https://login.example/authorize --configure [--maintenance TEXT]

``--configure`` only rewrites ``config.json`` of a bundle built before: a release's bundle is built
once and each environment it is published to gets its own login address.

OUT_DIR gets ``web/site`` as it is, ``vendor/`` with the npm files ``web/package.json`` declares
(run ``npm ci`` in web/ first), and ``config.json`` telling the apps to sign in at the national
login node. The local host serves the same three parts from the repository (emulators/static_site.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from emulators.static_site import SITE, vendor_files


class BundleError(Exception):
    pass


def bundle(out: Path, login_url: str) -> list[Path]:
    """Write the bundle into ``out`` (which must not exist yet); returns the files written."""
    missing = [str(path) for path in vendor_files().values() if not path.is_file()]
    if missing:
        raise BundleError(f"npm files missing (run `npm ci` in web/): {', '.join(missing)}")
    if not login_url.startswith("https://"):
        raise BundleError("the national login URL must be https://")
    shutil.copytree(SITE, out)
    (out / "vendor").mkdir()
    for name, source in vendor_files().items():
        shutil.copyfile(source, out / "vendor" / name)
    configure(out, login_url)
    return sorted(path for path in out.rglob("*") if path.is_file())


def configure(out: Path, login_url: str, maintenance: str | None = None) -> None:
    """Point a bundle's apps at the national login node of the environment it is published to, and
    set (or with None clear) the maintenance notice every page shows."""
    if not login_url.startswith("https://"):
        raise BundleError("the national login URL must be https://")
    config: dict[str, str] = {"identity": "national", "login_url": login_url}
    if maintenance and maintenance.strip():
        config["maintenance"] = maintenance.strip()
    (out / "config.json").write_text(json.dumps(config, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--login-url", required=True)
    parser.add_argument("--configure", action="store_true", help="only rewrite config.json of OUT_DIR")
    parser.add_argument("--maintenance", help="with --configure: the notice every page shows (empty: none)")
    arguments = parser.parse_args()
    try:
        if arguments.configure:
            configure(arguments.out, arguments.login_url, arguments.maintenance)
            print(f"{arguments.out}/config.json: {arguments.login_url}")
            return
        files = bundle(arguments.out, arguments.login_url)
    except (BundleError, FileExistsError) as error:
        sys.exit(f"error: {error}")
    print(f"{len(files)} files in {arguments.out}")


if __name__ == "__main__":
    main()
