"""Push a build folder to the Hugging Face Hub as a dataset repo.

Private by default. Uploads a verified copy of the published set only (cmedins.publish.verify): Parquet
shards, the card, plots, stats.json and manifest.json, re-scanned for identifiers and checked against the
hashes and facts the build recorded, plus LLaMA-Factory's dataset_info.json (and the mapped preference copy)
generated from that copy; never quarantine/, audit/, reports/, preview.jsonl or work files. An unchanged
build pushes nothing:
huggingface_hub compares each file's hash with the Hub's before committing and skips empty commits; we
compare the branch head before and after to report it. The token is never printed.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from cmedins.errors import CmedinsError
from cmedins.publish.build import load_build
from cmedins.publish.llamafactory import INFO_FILE, MAPPED_DIR, write_dataset_info
from cmedins.publish.verify import PublishedSet, rescan, stage_published_set

# Remote files under these that the build no longer has are deleted, so the repo mirrors the build.
MIRRORED_PATTERNS = ["data/*", "plots/*", "llamafactory/*"]


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    revision: str
    commit: str
    changed: bool
    url: str


def check_publishable(build_dir: Path) -> None:
    """Raise PublishRefused unless the build passes every check `push` makes (cmedins.publish.verify)."""
    with tempfile.TemporaryDirectory(prefix="cmedins-push-") as staging:
        stage_published_set(Path(build_dir), Path(staging))


def _scrub(message: str, token: str | None) -> str:
    return message.replace(token, "***") if token else message


def _hub_error(error: Exception, repo_id: str, token: str | None) -> CmedinsError:
    """One-line errors for the failures a user can fix; the token never appears in them."""
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    status = getattr(getattr(error, "response", None), "status_code", None)
    if status == 401 and not isinstance(error, RepositoryNotFoundError):
        return CmedinsError("the Hub rejected the token (401 Unauthorized): pass a valid write token with "
                            "--token, set HF_TOKEN, or run `hf auth login`")
    if isinstance(error, RevisionNotFoundError):
        return CmedinsError(f"{repo_id}: the revision does not exist on the Hub")
    if isinstance(error, RepositoryNotFoundError) or status == 404:
        return CmedinsError(f"{repo_id}: dataset repository not found, or the token cannot see it")
    if status == 403:
        return CmedinsError(f"{repo_id}: the token may not write here (403 Forbidden); use a write token for "
                            "this namespace")
    if isinstance(error, HfHubHTTPError):
        first = _scrub(str(error), token).splitlines()[0]
        return CmedinsError(f"{repo_id}: the Hub refused the push: {first}")
    return CmedinsError(f"{repo_id}: {_scrub(str(error), token)}")


def push_build(build_dir: Path, repo_id: str, *, private: bool = True, revision: str | None = None,
               token: str | None = None) -> PushResult:
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise CmedinsError(f"--repo-id must be ORG/NAME, got {repo_id!r}")
    with tempfile.TemporaryDirectory(prefix="cmedins-push-") as staging:
        published = stage_published_set(Path(build_dir), Path(staging))
        return _upload(published, load_build(published.root), repo_id, private=private, revision=revision,
                       token=token)


def _upload(published: PublishedSet, build, repo_id: str, *, private: bool, revision: str | None,
            token: str | None) -> PushResult:
    """Upload exactly the verified copy (`published.files` in `published.root`)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    # LLaMA-Factory's dataset_info.json (with the `<name>_hub` entries for REMOTE:repo_id) and the mapped
    # preference copy, generated from the verified shards and scanned like the rest, before the Hub is touched.
    write_dataset_info(build.root, repo_id=repo_id)
    extra = [INFO_FILE, *sorted(p.relative_to(build.root).as_posix() for p in (build.root / MAPPED_DIR).glob("*.parquet"))]
    rescan(build.root, extra)
    api = HfApi(token=token)
    branch = revision or "main"
    try:
        api.whoami()
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.repo_info(repo_id, repo_type="dataset")
        if bool(info.private) != private:
            have, want = ("private", "public") if info.private else ("public", "private")
            raise CmedinsError(f"{repo_id} exists and is {have}; push never changes visibility (asked for "
                               f"{want}: pass --{have} to push to it, or change it on the Hub)")
        if revision:
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        head = api.repo_info(repo_id, repo_type="dataset", revision=branch).sha
        card = build.root / "README.md"
        if "extra_gated_prompt" in card.read_text(encoding="utf-8") and not info.gated:
            api.update_repo_settings(repo_id, repo_type="dataset", gated="manual")
        commit = api.upload_folder(
            repo_id=repo_id, repo_type="dataset", folder_path=published.root, revision=branch,
            allow_patterns=[*published.files, *extra], delete_patterns=MIRRORED_PATTERNS,
            commit_message=f"cmedins {build.manifest.get('cmedins_version', '')}: build "
                           f"{build.manifest.get('name', build.root.name)}",
        )
    except HfHubHTTPError as error:
        raise _hub_error(error, repo_id, token) from None
    except ValueError as error:  # huggingface_hub: "Invalid metadata in README.md" from the Hub's YAML check
        raise CmedinsError(f"README.md: {_scrub(str(error), token).splitlines()[0]}") from None
    return PushResult(repo_id=repo_id, revision=branch, commit=commit.oid, changed=commit.oid != head,
                      url=str(commit.repo_url))
