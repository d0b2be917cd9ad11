"""Offline browser assets: the folder Solara's asset proxy serves instead of a CDN.

Solara loads its JavaScript (Vue app, requirejs, vega, echarts, ...) through ``/_solara/cdn``.
The ``solara-assets`` package installs those files under ``<prefix>/share/solara/cdn``, but
Solara's vega-lite widget asks for ``vega@5``, ``vega-lite@5`` and ``vega-embed@6`` while the
package ships ``vega@5.21.0``, ``vega-lite@5.2.0`` and ``vega-embed@6.20.2``; a missing name sends
the server to the internet, which fails offline after a long wait. :func:`prepare_assets` builds a
cache folder holding a link to every installed asset folder plus the three semver aliases, and
:func:`solara_environment` gives the environment that points Solara at it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = ["ALIASES", "AssetsError", "installed_assets_dir", "prepare_assets", "solara_environment"]

ALIASES = {
    "vega@5": "vega@5.",
    "vega-lite@5": "vega-lite@5.",
    "vega-embed@6": "vega-embed@6.",
}
"""Semver names Solara asks for, and the prefix of the installed folders each may stand for
(the highest installed version with that prefix wins)."""

REQUIRED = ("@widgetti", "requirejs@2.3.6", "echarts@5.4.0")
"""Installed asset folders the UI cannot work without."""


class AssetsError(RuntimeError):
    """The offline assets are not installed (``pip install solara-assets``)."""


def installed_assets_dir() -> Path:
    """Where ``solara-assets`` put the files: ``<sys.prefix>/share/solara/cdn``.

    Raises
    ------
    AssetsError
        When the folder or one of :data:`REQUIRED` is missing.
    """
    root = Path(sys.prefix) / "share" / "solara" / "cdn"
    missing = [name for name in REQUIRED if not (root / name).is_dir()]
    if missing:
        raise AssetsError(
            f"offline browser assets missing in {root} ({', '.join(missing)}); "
            "install them with: pip install 'solara-assets==1.58.2'"
        )
    return root


def _default_cache_dir() -> Path:
    return Path(sys.prefix) / "share" / "cxsim" / "solara-cdn"


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cxsim" / "solara-cdn"


def _newest(root: Path, prefix: str) -> Path | None:
    """The installed folder ``<prefix><version>`` with the highest version."""

    def version_key(p: Path) -> tuple[int, ...]:
        parts = p.name[len(prefix) :].split(".")
        return tuple(int(x) if x.isdigit() else -1 for x in parts)

    found = [
        p for p in root.glob(f"{prefix}*") if p.is_dir() and p.name[len(prefix) :][:1].isdigit()
    ]
    return max(found, key=version_key) if found else None


def _link(target: Path, link: Path) -> None:
    """Make ``link`` point at ``target`` (replacing a wrong link); copy when links fail."""
    if link.is_symlink():
        if Path(os.readlink(link)) == target:
            return
        link.unlink()
    elif link.exists():
        return  # a copy made earlier (file systems without links): keep it
    try:
        link.symlink_to(target, target_is_directory=True)
    except OSError:
        shutil.copytree(target, link)


def prepare_assets(cache_dir: str | Path | None = None) -> Path:
    """Build (idempotently) the asset cache folder and return it.

    Parameters
    ----------
    cache_dir
        Where to build it. Default: ``<sys.prefix>/share/cxsim/solara-cdn`` (inside the virtual
        environment), or ``~/.cache/cxsim/solara-cdn`` when that is not writable.

    Returns
    -------
    Path
        A folder with one entry per installed asset folder and the :data:`ALIASES`.

    Raises
    ------
    AssetsError
        When ``solara-assets`` is not installed.
    """
    source = installed_assets_dir()
    candidates = (
        [Path(cache_dir)] if cache_dir is not None else [_default_cache_dir(), _user_cache_dir()]
    )
    last_error: OSError | None = None
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for entry in sorted(source.iterdir()):
                if entry.is_dir():
                    _link(entry, folder / entry.name)
            for alias, prefix in ALIASES.items():
                target = _newest(source, prefix)
                if target is not None:
                    _link(target, folder / alias)
            return folder
        except OSError as e:
            last_error = e
    raise AssetsError(f"cannot build the offline asset folder: {last_error}")


_QUIET_COOKIE_WARNING = "ignore:Cookies with samesite=none require https:UserWarning"
"""A ``PYTHONWARNINGS`` entry that silences Solara's samesite warning (see
:func:`solara_environment`)."""


def solara_environment(cache_dir: Path) -> dict[str, str]:
    """Environment variables for a Solara server that must work with no internet (and shows no
    "runs on Solara" badge over the page's corner).

    Parameters
    ----------
    cache_dir
        The folder from :func:`prepare_assets`.
    """
    # Solara would set its session cookie with samesite=none (for a page embedded in another
    # site's iframe), which needs https; served over plain http on 127.0.0.1 it falls back to
    # samesite=lax, which is right for a page opened directly, and prints a 12-line warning about
    # it on the first page load. We serve plain http on purpose: keep the fallback, drop the noise.
    warnings = [os.environ.get("PYTHONWARNINGS", ""), _QUIET_COOKIE_WARNING]
    return {
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache_dir),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_THEME_VARIANT": "light",
        "SOLARA_THEME_SHOW_BANNER": "false",
        "PYTHONWARNINGS": ",".join(w for w in warnings if w),
    }
