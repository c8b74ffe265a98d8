"""The Python half of the bench's stand-ins for GitHub's own actions (stdlib only; launch.js runs it).

GitHub's pinned actions cannot be fetched offline (act needs their repositories, bundled dist/ included), so
the bench maps each `uses: actions/<name>@<sha>` to the folder beside this file with act's
--local-repository. Each does the smallest honest version of the real action's job, through the same
interfaces the real one uses: INPUT_* variables, $GITHUB_OUTPUT / $GITHUB_PATH / $GITHUB_ENV / $GITHUB_STATE,
git, the tool cache, and the runner's artifact (v4 results API) and cache services that act serves with
--artifact-server-path and --cache-server-path.

    python3 standins.py checkout|setup-python|upload-artifact|download-artifact|cache main|post
"""

from __future__ import annotations

import base64
import fnmatch
import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ARTIFACT_SERVICE = "twirp/github.actions.results.api.v1.ArtifactService"
CACHE_CHUNK = 32 * 1024 * 1024


class ActionFailed(Exception):
    """The action fails the step with this message, as `core.setFailed` does."""


def inp(name: str) -> str:
    return os.environ.get(f"INPUT_{name.replace(' ', '_').upper()}", "").strip()


def flag(name: str) -> bool:
    value = inp(name).lower()
    if value not in ("", "true", "false"):
        raise ActionFailed(f'Input does not meet YAML 1.2 "Core Schema" specification: {name}')
    return value == "true"


def lines(name: str) -> list[str]:
    return [line.strip() for line in inp(name).splitlines() if line.strip()]


def _append(variable: str, text: str) -> None:
    with open(os.environ[variable], "a", encoding="utf-8") as handle:
        handle.write(text)


def set_output(name: str, value: str) -> None:
    _append("GITHUB_OUTPUT", f"{name}<<__STANDIN_EOF__\n{value}\n__STANDIN_EOF__\n")


def save_state(name: str, value: str) -> None:
    _append("GITHUB_STATE", f"{name}<<__STANDIN_EOF__\n{value}\n__STANDIN_EOF__\n")


def workspace() -> Path:
    return Path(os.environ["GITHUB_WORKSPACE"])


def under_workspace(path: str) -> Path:
    return (workspace() / os.path.expanduser(path)).resolve()


# ------------------------------------------------------------------------------------------- checkout


def git(*args: str, cwd: Path) -> str:
    print(f"[command]git {' '.join(args)}", flush=True)
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ActionFailed(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def checkout() -> None:
    """git init + fetch + checkout, as actions/checkout's git path does (no REST download fallback)."""
    repository = inp("repository") or os.environ["GITHUB_REPOSITORY"]
    url = f"{os.environ['GITHUB_SERVER_URL'].rstrip('/')}/{repository}"
    dest = under_workspace(inp("path"))
    depth = int(inp("fetch-depth") or "1")
    dest.mkdir(parents=True, exist_ok=True)
    for child in dest.iterdir():  # actions/checkout cleans what an earlier job left
        subprocess.run(["rm", "-rf", str(child)], check=True)
    git("init", "--quiet", str(dest), cwd=dest)
    git("remote", "add", "origin", url, cwd=dest)
    shallow = [f"--depth={depth}"] if depth > 0 else []
    if depth == 0:
        git(
            "fetch",
            "--quiet",
            "--prune",
            "--no-recurse-submodules",
            "origin",
            "+refs/heads/*:refs/remotes/origin/*",
            "+refs/tags/*:refs/tags/*",
            cwd=dest,
        )
    ref, expected_sha = inp("ref"), ""
    if not ref and repository == os.environ["GITHUB_REPOSITORY"]:
        ref, expected_sha = os.environ["GITHUB_REF"], os.environ.get("GITHUB_SHA", "")
    elif not ref:
        ref = "HEAD"
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        ref, expected_sha = "", ref
    local, branch = _fetch_ref(dest, ref, expected_sha, shallow)
    if branch:
        git("checkout", "--quiet", "--force", "-B", branch, local, cwd=dest)
    else:
        git("checkout", "--quiet", "--force", "--detach", local, cwd=dest)
    commit = git("rev-parse", "HEAD", cwd=dest)
    if expected_sha and commit != expected_sha:
        raise ActionFailed(f"{ref} is at {commit} in {url}, not at the event's commit {expected_sha}")
    if flag("persist-credentials") or not inp("persist-credentials"):
        basic = base64.b64encode(f"x-access-token:{inp('token')}".encode()).decode()
        server = os.environ["GITHUB_SERVER_URL"].rstrip("/") + "/"
        git("config", "--local", f"http.{server}.extraheader", f"AUTHORIZATION: basic {basic}", cwd=dest)
    set_output("ref", ref or commit)
    set_output("commit", commit)
    print(f"Checked out {url} {ref or commit} at {commit} into {dest}")


def _fetch_ref(dest: Path, ref: str, sha: str, shallow: list[str]) -> tuple[str, str]:
    """Fetch `ref` (full ref, branch or tag name; or only `sha`); the local ref to check out and the branch."""
    fetch = ["fetch", "--quiet", "--no-tags", "--prune", "--no-recurse-submodules", *shallow, "origin"]
    if not ref:
        git(*fetch, sha, cwd=dest)
        return sha, ""
    candidates = [ref] if ref.startswith("refs/") else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for full in candidates:
        if full.startswith("refs/heads/"):
            local, branch = "refs/remotes/origin/" + full.removeprefix("refs/heads/"), full.removeprefix("refs/heads/")
        elif full.startswith("refs/pull/"):
            local, branch = "refs/remotes/pull/" + full.removeprefix("refs/pull/"), ""
        else:
            local, branch = full, ""
        if git("ls-remote", "origin", full, cwd=dest):
            git(*fetch, f"+{full}:{local}", cwd=dest)
            return local, branch
    if ref == "HEAD":
        git(*fetch, "+HEAD:refs/remotes/origin/HEAD", cwd=dest)
        return "refs/remotes/origin/HEAD", ""
    raise ActionFailed(f"A branch or tag with the name '{ref}' could not be found")


# --------------------------------------------------------------------------------------- setup-python


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def setup_python() -> None:
    """The newest tool-cache Python matching the spec goes first on PATH (no download: fail when absent)."""
    spec = inp("python-version")
    if not spec:
        raise ActionFailed("The stand-in needs python-version (it does not read .python-version files)")
    tools = Path(os.environ["RUNNER_TOOL_CACHE"]) / "Python"
    pattern = re.compile(re.escape(spec).replace(r"x", r"\d+") + r"(\.\d+)*")
    found = sorted((v for v in (p.name for p in tools.glob("*")) if pattern.fullmatch(v)), key=_version_key)
    if not found:
        raise ActionFailed(
            f"Version {spec} was not found in the local cache ({tools}); the stand-in cannot download it"
        )
    version = found[-1]
    root = tools / version / "x64"
    python = root / "bin" / "python"
    _append("GITHUB_PATH", f"{root / 'bin'}\n")
    for name in ("pythonLocation", "Python_ROOT_DIR", "Python2_ROOT_DIR", "Python3_ROOT_DIR"):
        _append("GITHUB_ENV", f"{name}={root}\n")
    set_output("python-version", version)
    set_output("python-path", str(python))
    print(f"Successfully set up CPython ({version}) from {root}")


# ------------------------------------------------------------------------------------- artifacts (v4)


def _backend_ids() -> tuple[str, str]:
    """Workflow run and job backend ids, from the scp claim of ACTIONS_RUNTIME_TOKEN (a JWT)."""
    payload = os.environ["ACTIONS_RUNTIME_TOKEN"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for scope in claims.get("scp", "").split():
        parts = scope.split(":")
        if parts[0] == "Actions.Results" and len(parts) == 3:
            return parts[1], parts[2]
    raise ActionFailed("Failed to get backend IDs: the runtime token has no Actions.Results scope")


def _twirp(method: str, body: dict[str, Any]) -> dict[str, Any]:
    url = f"{os.environ['ACTIONS_RESULTS_URL'].rstrip('/')}/{ARTIFACT_SERVICE}/{method}"
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {os.environ['ACTIONS_RUNTIME_TOKEN']}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def _list_artifacts(ids: dict[str, str], name: str = "") -> list[dict[str, Any]]:
    """The run's artifacts (named `name`, if given). act's server drops the connection when the run has
    none yet (it lists a folder it has not created), which means no artifacts."""
    try:
        return _twirp("ListArtifacts", {**ids, **({"nameFilter": name} if name else {})}).get("artifacts", [])
    except (ConnectionError, urllib.error.URLError):
        return []


def _http(url: str, *, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _search(patterns: list[str], include_hidden: bool) -> tuple[list[Path], Path | None]:
    """Files the patterns match (`!` lines exclude) and the root they are zipped relative to, as
    upload-artifact computes it: a single directory is its own root, else the common ancestor of the
    patterns' literal parts. Hidden files below what a pattern names are left out unless asked for."""
    includes = [p for p in patterns if not p.startswith("!")]
    excludes = [str(under_workspace(p[1:])) for p in patterns if p.startswith("!")]
    files: set[Path] = set()
    literal_roots: list[Path] = []
    for pattern in includes:
        absolute = str(under_workspace(pattern))
        prefix = re.split(r"[*?\[]", absolute, maxsplit=1)[0]
        literal = Path(absolute if prefix == absolute else prefix if prefix.endswith("/") else Path(prefix).parent)
        literal_roots.append(literal)
        for match in glob.glob(absolute, recursive=True, include_hidden=True):
            path = Path(match)
            candidates = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            for candidate in candidates:
                if include_hidden or not _is_hidden(candidate.relative_to(literal)):
                    files.add(candidate)
    files = {f for f in files if not any(fnmatch.fnmatch(str(f), e) or str(f).startswith(e + "/") for e in excludes)}
    if not files:
        return [], None
    if len(includes) == 1 and under_workspace(includes[0]).is_dir():
        root = under_workspace(includes[0])
    else:
        root = Path(os.path.commonpath([*map(str, literal_roots), *(str(f.parent) for f in files)]))
    return sorted(files), root


def upload_artifact() -> None:
    name = inp("name") or "artifact"
    files, root = _search(lines("path"), flag("include-hidden-files"))
    if not files:
        behaviour = inp("if-no-files-found") or "warn"
        message = f"No files were found with the provided path: {inp('path')}. No artifacts will be uploaded."
        if behaviour == "error":
            raise ActionFailed(message)
        if behaviour == "warn":
            print(f"::warning::{message}")
        return
    assert root is not None
    run_id, job_id = _backend_ids()
    ids = {"workflowRunBackendId": run_id, "workflowJobRunBackendId": job_id}
    existing = _list_artifacts(ids, name)
    if existing and not flag("overwrite"):
        raise ActionFailed(
            "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact "
            "with this name already exists on the workflow run"
        )
    if existing:
        _twirp("DeleteArtifact", {**ids, "name": name})
    buffer = io.BytesIO()
    level = int(inp("compression-level") or "6")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    body = buffer.getvalue()
    created = _twirp("CreateArtifact", {**ids, "name": name, "version": 4})
    url = created["signedUploadUrl"]
    _http(url + "&comp=block", method="PUT", data=body, headers={"Content-Type": "application/octet-stream"})
    _http(url + "&comp=blocklist", method="PUT", data=b"")
    digest = hashlib.sha256(body).hexdigest()
    final = _twirp("FinalizeArtifact", {**ids, "name": name, "size": str(len(body)), "hash": f"sha256:{digest}"})
    artifact_id = str(final.get("artifactId", ""))
    set_output("artifact-id", artifact_id)
    set_output(
        "artifact-url",
        f"{os.environ['GITHUB_SERVER_URL']}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/"
        f"{run_id}/artifacts/{artifact_id}",
    )
    print(f"Artifact {name} ({len(files)} files, {len(body)} bytes, root {root}) uploaded: id {artifact_id}")


def download_artifact() -> None:
    name, pattern = inp("name"), inp("pattern")
    run_id, job_id = _backend_ids()
    if inp("github-token") and inp("run-id"):
        run_id = inp("run-id")  # another run's artifacts: the same service, by that run's id
    ids = {"workflowRunBackendId": run_id, "workflowJobRunBackendId": job_id}
    listed = _list_artifacts(ids, name)
    if name and not listed:
        raise ActionFailed(f"Unable to download artifact(s): Artifact not found for name: {name}")
    if pattern:
        listed = [a for a in listed if fnmatch.fnmatchcase(a["name"], pattern)]
    dest = under_workspace(inp("path") or ".")
    single = bool(name) or flag("merge-multiple")
    for artifact in listed:
        target = dest if single else dest / artifact["name"]
        signed = _twirp("GetSignedArtifactURL", {**ids, "name": artifact["name"]})["signedUrl"]
        with zipfile.ZipFile(io.BytesIO(_http(signed))) as archive:
            archive.extractall(target)
        print(f"Artifact {artifact['name']} of run {run_id} downloaded to {target}")
    print(f"Total of {len(listed)} artifact(s) downloaded")
    set_output("download-path", str(dest))


# ----------------------------------------------------------------------------------------------- cache


def _cache_paths() -> list[Path]:
    found: list[Path] = []
    for line in lines("path"):
        found += [Path(p) for p in glob.glob(str(under_workspace(line)), include_hidden=True)]
    return found


def _cache_version() -> str:
    return hashlib.sha256("|".join([*lines("path"), "zstd"]).encode()).hexdigest()


def _cache_api(
    path: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> bytes:
    url = os.environ["ACTIONS_CACHE_URL"].rstrip("/") + "/_apis/artifactcache/" + path
    auth = {
        "Authorization": f"Bearer {os.environ['ACTIONS_RUNTIME_TOKEN']}",
        "Accept": "application/json;api-version=6.0-preview.1",
    }
    return _http(url, method=method, data=body, headers=auth | (headers or {}))


def _tar(*args: str, stdin: str | None = None, changed_is_ok: bool = False) -> None:
    """GNU tar with zstd, as actions/cache runs it on Linux (its paths relative to / here, to the workspace
    there: the same absolute places either way). `changed_is_ok`: GNU tar's exit 1, a file that changed while
    it was read, is no failure; on this shared machine that is a venv file hard-linked into the shared uv cache
    whose link count (ctime) another session's install changed, its content the same."""
    done = subprocess.run(["tar", "-P", "-C", "/", *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0 and not (changed_is_ok and done.returncode == 1):
        raise ActionFailed(f"tar {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


def cache_restore() -> None:
    key = inp("key")
    save_state("CACHE_KEY", key)
    if not os.environ.get("ACTIONS_CACHE_URL"):
        print("::warning::Cache service is not available (no ACTIONS_CACHE_URL); nothing is restored or saved.")
        set_output("cache-hit", "false")
        return
    keys = ",".join([key, *lines("restore-keys")])
    query = urllib.parse.urlencode({"keys": keys, "version": _cache_version()})
    found = _cache_api(f"cache?{query}")
    entry = json.loads(found) if found else None
    if not entry:
        if flag("fail-on-cache-miss"):
            raise ActionFailed(f"Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: {key}")
        print(f"Cache not found for input keys: {keys}")
        set_output("cache-hit", "false")
        return
    matched = entry["cacheKey"]
    save_state("CACHE_RESULT", matched)
    if not flag("lookup-only"):
        with tempfile.NamedTemporaryFile(suffix=".tzst") as archive:
            with urllib.request.urlopen(entry["archiveLocation"], timeout=300) as response:
                shutil.copyfileobj(response, archive, CACHE_CHUNK)
            archive.flush()
            _tar("-xf", archive.name, "--use-compress-program", "unzstd --long=30")
    set_output("cache-hit", str(matched.lower() == key.lower()).lower())
    print(f"Cache restored from key: {matched}")


def cache_save() -> None:
    key = os.environ.get("STATE_CACHE_KEY", "")
    if not os.environ.get("ACTIONS_CACHE_URL") or not key:
        return
    if os.environ.get("STATE_CACHE_RESULT", "").lower() == key.lower():
        print(f"Cache hit occurred on the primary key {key}, not saving cache.")
        return
    paths = _cache_paths()
    if not paths:
        print(
            "::warning::Path Validation Error: Path(s) specified in the action for caching do(es) not exist, "
            "hence no cache is being saved."
        )
        return
    with tempfile.NamedTemporaryFile(suffix=".tzst") as spool:
        manifest = "".join(f"{str(path).lstrip('/')}\n" for path in paths)
        _tar("--posix", "--warning=no-file-changed", "-cf", spool.name, "--files-from", "-",
             "--use-compress-program", "zstdmt --long=30", stdin=manifest, changed_is_ok=True)  # fmt: skip
        size = spool.seek(0, os.SEEK_END)
        reserve = json.dumps({"key": key, "version": _cache_version(), "cacheSize": size}).encode()
        try:
            cache_id = json.loads(
                _cache_api("caches", method="POST", body=reserve, headers={"Content-Type": "application/json"})
            )["cacheId"]
        except urllib.error.HTTPError as error:
            print(f"::warning::Failed to save: Unable to reserve cache with key {key} ({error.code})")
            return
        spool.seek(0)
        offset = 0
        while chunk := spool.read(CACHE_CHUNK):
            end = offset + len(chunk) - 1
            _cache_api(
                f"caches/{cache_id}",
                method="PATCH",
                body=chunk,
                headers={"Content-Type": "application/octet-stream", "Content-Range": f"bytes {offset}-{end}/*"},
            )
            offset += len(chunk)
        _cache_api(
            f"caches/{cache_id}",
            method="POST",
            body=json.dumps({"size": size}).encode(),
            headers={"Content-Type": "application/json"},
        )
    print(f"Cache saved with key: {key} ({size} bytes)")


ACTIONS = {
    ("checkout", "main"): checkout,
    ("setup-python", "main"): setup_python,
    ("upload-artifact", "main"): upload_artifact,
    ("download-artifact", "main"): download_artifact,
    ("cache", "main"): cache_restore,
    ("cache", "post"): cache_save,
}


def main(argv: list[str]) -> int:
    # act copies the action to <owner>-<name>@<ref>/; the bench's own layout is <name>/.
    name = argv[1].partition("@")[0].removeprefix("actions-")
    try:
        ACTIONS[(name, argv[2])]()
    except ActionFailed as error:
        print(f"::error::{error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
