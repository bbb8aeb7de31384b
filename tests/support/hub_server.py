"""A Hub-compatible HTTP server on loopback: the subset of the Hugging Face Hub API that huggingface_hub and
datasets use to create a repo, commit files (regular + LFS basic transfer), list and download them.

State is in memory. Git object ids are computed like git (sha1 of "blob <size>\\0" + bytes; LFS files are
stored as pointer blobs), so preupload can report remote oids and huggingface_hub skips unchanged files
exactly as against the real Hub. One token is valid; others get 401 like the Hub's "Invalid credentials".
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".parquet", ".png", ".arrow", ".bin", ".safetensors", ".gz", ".zip")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StoredFile:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def pointer(self) -> bytes:
        return f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.data)}\n".encode()

    @property
    def oid(self) -> str:
        return git_blob_id(self.pointer if self.lfs else self.data)

    def entry(self, path: str) -> dict:
        entry = {"type": "file", "oid": self.oid, "size": len(self.data), "path": path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": len(self.pointer)}
        return entry


@dataclass
class Repo:
    repo_id: str
    private: bool
    gated: bool | str = False
    commits: dict[str, dict[str, StoredFile]] = field(default_factory=dict)  # sha -> tree
    branches: dict[str, str] = field(default_factory=dict)  # name -> sha

    def commit(self, branch: str, tree: dict[str, StoredFile], message: str) -> str:
        parent = self.branches.get(branch, "")
        listing = json.dumps(sorted((p, f.oid) for p, f in tree.items()))
        sha = hashlib.sha1(f"{parent}\n{message}\n{listing}".encode()).hexdigest()
        self.commits[sha] = tree
        self.branches[branch] = sha
        return sha

    def resolve(self, revision: str) -> str | None:
        return self.branches.get(revision) or (revision if revision in self.commits else None)


class HubState:
    def __init__(self, token: str, user: str):
        self.token, self.user = token, user
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.commit_count = 0  # commits made through the commit endpoint (tests assert no-op pushes)
        self.lock = threading.Lock()


ROUTES: list[tuple[str, re.Pattern, str]] = []


def route(method: str, pattern: str):
    def decorate(handler):
        ROUTES.append((method, re.compile(pattern), handler.__name__))
        return handler
    return decorate


REPO = r"(?P<type>model|dataset|space)s/(?P<repo>[^/]+/[^/]+?)"


class HubHandler(BaseHTTPRequestHandler):
    state: HubState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    # --- plumbing -------------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        if token is not None and token != self.state.token:
            return self._json(401, {"error": "Invalid credentials in Authorization header"})
        self.authed = token == self.state.token
        for route_method, pattern, name in ROUTES:
            match = pattern.fullmatch(url.path)
            if match and (route_method == method or (route_method == "GET" and method == "HEAD")):
                with self.state.lock:
                    return getattr(self, name)(**{k: unquote(v) for k, v in match.groupdict().items() if v is not None})
        self._json(404, {"error": f"no route {method} {url.path}"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _repo(self, type: str, repo: str, revision: str | None = None, write: bool = False):
        """The repo and the commit sha of `revision`, or None after sending the Hub's 401/404 answer."""
        found = self.state.repos.get((type, repo))
        if found is None or (found.private and not self.authed):
            # The Hub answers 401 for private repos without auth, 404 otherwise; both say RepoNotFound.
            self._json(401 if not self.authed else 404, {"error": "Repository not found"},
                       {"X-Error-Code": "RepoNotFound"})
            return None
        if write and not self.authed:
            self._json(401, {"error": "You must be authenticated to write"})
            return None
        sha = found.resolve(revision or "main")
        if sha is None:
            self._json(404, {"error": f"Invalid rev id: {revision}"}, {"X-Error-Code": "RevisionNotFound"})
            return None
        return found, sha

    def _base(self) -> str:
        return f"http://{self.headers['Host']}"

    # --- account and repos ----------------------------------------------------------------------------
    @route("GET", r"/api/whoami-v2")
    def whoami(self) -> None:
        if not self.authed:
            return self._json(401, {"error": "Invalid credentials in Authorization header"})
        self._json(200, {"type": "user", "name": self.state.user, "orgs": [],
                         "auth": {"accessToken": {"displayName": "test", "role": "write"}}})

    @route("POST", r"/api/repos/create")
    def create_repo(self) -> None:
        if not self.authed:
            return self._json(401, {"error": "Invalid credentials in Authorization header"})
        payload = json.loads(self.body)
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload.get('organization') or self.state.user}/{payload['name']}"
        if payload.get("organization") not in (None, self.state.user):
            return self._json(403, {"error": "You don't have the rights to create a repo under this namespace"})
        if (repo_type, repo_id) in self.state.repos:
            # The Hub's 409 still carries the repo url, which create_repo(exist_ok=True) returns.
            return self._json(409, {"error": "You already created this dataset repo",
                                    "url": f"{self._base()}/{repo_type}s/{repo_id}"})
        repo = Repo(repo_id, private=payload.get("visibility", "public") != "public" or bool(payload.get("private")))
        attributes = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)
        repo.commit("main", {".gitattributes": StoredFile(attributes.encode(), lfs=False)}, "initial commit")
        self.state.repos[(repo_type, repo_id)] = repo
        self._json(200, {"url": f"{self._base()}/{repo_type}s/{repo_id}", "name": repo_id, "id": repo_id})

    @route("POST", r"/api/validate-yaml")
    def validate_yaml(self) -> None:
        """The Hub checks a README's front matter on upload; here: it must be a YAML mapping."""
        import yaml

        content = json.loads(self.body)["content"]
        match = re.match(r"^---\r?\n(.*?)\r?\n---", content, re.S)
        try:
            meta = yaml.safe_load(match[1]) if match else {}
        except yaml.YAMLError as error:
            return self._json(400, {"errors": [{"message": f"invalid YAML: {error}"}]})
        if not isinstance(meta, dict):
            return self._json(400, {"errors": [{"message": "metadata must be a mapping"}]})
        warnings = [] if meta else [{"message": "empty or missing yaml metadata in repo card"}]
        self._json(200, {"errors": [], "warnings": warnings})

    @route("GET", rf"/api/{REPO}(?:/revision/(?P<revision>.+))?")
    def repo_info(self, type: str, repo: str, revision: str | None = None) -> None:
        found = self._repo(type, repo, revision)
        if found is None:
            return
        repo_obj, sha = found
        tree = repo_obj.commits[sha]
        self._json(200, {"id": repo_obj.repo_id, "_id": repo_obj.repo_id, "author": repo_obj.repo_id.split("/")[0],
                         "sha": sha, "private": repo_obj.private, "gated": repo_obj.gated, "disabled": False,
                         "downloads": 0, "likes": 0, "tags": [], "lastModified": "2026-01-01T00:00:00.000Z",
                         "createdAt": "2026-01-01T00:00:00.000Z",
                         "siblings": [{"rfilename": path} for path in sorted(tree)]})

    @route("PUT", rf"/api/{REPO}/settings")
    def settings(self, type: str, repo: str) -> None:
        found = self._repo(type, repo, write=True)
        if found is None:
            return
        payload = json.loads(self.body or b"{}")
        if "gated" in payload:
            found[0].gated = payload["gated"]
        if "private" in payload:
            found[0].private = bool(payload["private"])
        self._json(200, {})

    @route("POST", rf"/api/{REPO}/branch/(?P<branch>.+)")
    def create_branch(self, type: str, repo: str, branch: str) -> None:
        payload = json.loads(self.body or b"{}")
        found = self._repo(type, repo, payload.get("startingPoint"), write=True)
        if found is None:
            return
        if branch in found[0].branches:
            return self._json(409, {"error": "Reference already exists"})
        found[0].branches[branch] = found[1]
        self._json(200, {})

    @route("GET", rf"/api/{REPO}/refs")
    def refs(self, type: str, repo: str) -> None:
        found = self._repo(type, repo)
        if found is None:
            return
        self._json(200, {"branches": [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": s}
                                      for n, s in sorted(found[0].branches.items())], "tags": [], "converts": []})

    # --- upload ---------------------------------------------------------------------------------------
    @route("POST", rf"/api/{REPO}/preupload/(?P<revision>.+)")
    def preupload(self, type: str, repo: str, revision: str) -> None:
        found = self._repo(type, repo, revision, write=True)
        if found is None:
            return
        tree = found[0].commits[found[1]]
        files = []
        for item in json.loads(self.body)["files"]:
            lfs = item["path"].endswith(LFS_SUFFIXES) or item["size"] > 10_000_000 or b"\0" in base64.b64decode(
                item["sample"])
            remote = tree.get(item["path"])
            oid = None if remote is None else (remote.sha256 if remote.lfs else remote.oid)
            files.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                          "oid": oid})
        self._json(200, {"files": files, "commitOid": found[1]})

    @route("POST", r"/(?:(?P<type>dataset|space)s/)?(?P<repo>[^/]+/[^/]+?)\.git/info/lfs/objects/batch")
    def lfs_batch(self, repo: str, type: str = "model") -> None:
        if self._repo(type, repo, write=True) is None:
            return
        objects = []
        for obj in json.loads(self.body)["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.state.lfs:
                entry["actions"] = {"upload": {"href": f"{self._base()}/lfs-upload/{obj['oid']}", "header": {}}}
            objects.append(entry)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}).encode(),
                   {"Content-Type": "application/vnd.git-lfs+json"})

    @route("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})")
    def lfs_put(self, oid: str) -> None:
        if hashlib.sha256(self.body).hexdigest() != oid:
            return self._json(400, {"error": "sha256 mismatch"})
        self.state.lfs[oid] = self.body
        self._send(200, b"", {})

    @route("POST", rf"/api/{REPO}/commit/(?P<revision>.+)")
    def commit(self, type: str, repo: str, revision: str) -> None:
        found = self._repo(type, repo, revision, write=True)
        if found is None:
            return
        repo_obj, sha = found
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        header = lines[0]["value"]
        if header.get("parentCommit") not in (None, sha):
            return self._json(412, {"error": "A commit has happened since. Please refresh and try again."})
        tree = dict(repo_obj.commits[sha])
        for item in lines[1:]:
            value = item["value"]
            if item["key"] == "file":
                tree[value["path"]] = StoredFile(base64.b64decode(value["content"]), lfs=False)
            elif item["key"] == "lfsFile":
                if value["oid"] not in self.state.lfs:
                    return self._json(422, {"error": f"LFS object {value['oid']} was not uploaded"})
                tree[value["path"]] = StoredFile(self.state.lfs[value["oid"]], lfs=True)
            elif item["key"] == "deletedFile":
                if tree.pop(value["path"], None) is None:
                    return self._json(404, {"error": "A file with this name doesn't exist"},
                                      {"X-Error-Code": "EntryNotFound"})
            elif item["key"] == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                tree = {p: f for p, f in tree.items() if not p.startswith(prefix)}
            else:
                return self._json(400, {"error": f"unsupported commit operation {item['key']}"})
        new_sha = repo_obj.commit(revision, tree, header.get("summary", ""))
        self.state.commit_count += 1
        self._json(200, {"success": True, "commitOid": new_sha,
                         "commitUrl": f"{self._base()}/{type}s/{repo}/commit/{new_sha}"})

    # --- listing and download -------------------------------------------------------------------------
    def _entries(self, tree: dict[str, StoredFile], prefix: str, recursive: bool) -> list[dict]:
        prefix = prefix.strip("/")
        start = f"{prefix}/" if prefix else ""
        files, folders = [], set()
        for path in sorted(tree):
            if not path.startswith(start):
                continue
            rest = path[len(start):]
            if "/" in rest:
                parts = rest.split("/")[:-1]
                for depth in range(1, (len(parts) if recursive else 1) + 1):
                    folders.add(start + "/".join(parts[:depth]))
                if not recursive:
                    continue
            files.append(tree[path].entry(path))
        folder_entries = [{"type": "directory", "oid": hashlib.sha1(p.encode()).hexdigest(), "size": 0, "path": p}
                          for p in sorted(folders)]
        return folder_entries + files

    @route("GET", rf"/api/{REPO}/tree/(?P<revision>[^/]+)(?:/(?P<path>.*))?")
    def tree(self, type: str, repo: str, revision: str, path: str = "") -> None:
        found = self._repo(type, repo, revision)
        if found is None:
            return
        tree = found[0].commits[found[1]]
        if path and path not in tree and not any(p.startswith(path.rstrip("/") + "/") for p in tree):
            return self._json(404, {"error": "Path not found"}, {"X-Error-Code": "EntryNotFound"})
        self._json(200, self._entries(tree, path, self.query.get("recursive", "False").lower() == "true"))

    @route("POST", rf"/api/{REPO}/paths-info/(?P<revision>.+)")
    def paths_info(self, type: str, repo: str, revision: str) -> None:
        found = self._repo(type, repo, revision)
        if found is None:
            return
        tree = found[0].commits[found[1]]
        if self.headers.get("Content-Type", "").startswith("application/json"):
            paths = json.loads(self.body).get("paths", [])
        else:
            paths = parse_qs(self.body.decode()).get("paths", [])
        result = []
        for path in paths:
            if path in tree:
                result.append(tree[path].entry(path))
            elif any(p.startswith(path.rstrip("/") + "/") for p in tree):
                result.append({"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0,
                               "path": path})
        self._json(200, result)

    @route("GET", r"/(?:(?P<type>dataset|space)s/)?(?P<repo>[^/]+/[^/]+?)/resolve/(?P<revision>[^/]+)/(?P<path>.+)")
    def resolve(self, repo: str, revision: str, path: str, type: str = "model") -> None:
        found = self._repo(type, repo, revision)
        if found is None:
            return
        stored = found[0].commits[found[1]].get(path)
        if stored is None:
            return self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        headers = {"X-Repo-Commit": found[1], "ETag": f'"{stored.oid}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        if stored.lfs:
            headers.update({"X-Linked-Etag": f'"{stored.sha256}"', "X-Linked-Size": str(len(stored.data))})
        data, status = stored.data, 200
        ranged = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if ranged:
            start = int(ranged[1]) if ranged[1] else max(0, len(data) - int(ranged[2]))
            end = int(ranged[2]) if ranged[1] and ranged[2] else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{min(end, len(data) - 1)}/{len(data)}"
            data, status = data[start:end + 1], 206
        self._send(status, data, headers)


class HubServer:
    """Start with `with HubServer() as hub:`; `hub.url` is the endpoint, `hub.token` the valid token."""

    def __init__(self, token: str = "hf_cmedins_test_token", user: str = "cmedins-tester"):
        self.state = HubState(token, user)
        handler = type("Handler", (HubHandler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.token, self.user = token, user
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
