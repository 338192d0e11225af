"""A fleet mid-upgrade: two instances of two releases (every JavaScript module differs) behind HAProxy
round-robin, then behind docs/deployment.md's nginx block, and pages loaded through each, every
file each page links with them.

Before, an instance asked for the other release's digest answered with its own bytes: a page got
modules of two releases together (measured: 40 of 40 page loads mixed, 640 of their 1,440 files
from the other release, through HAProxy and through nginx alike). Now that instance answers 404
``version_not_here`` while the other is live, and the balancer (HAProxy: ``retry-on 404`` for
``/static/v/`` and ``/ondevice/``, ``option redispatch 1``; nginx: ``proxy_next_upstream
http_404``) sends the request to the instance that serves that release: 0 of 40 mixed, every file 200.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import moodtape
from cluster_topology import Topology
from redis_server import listening
from services import free_port

pytestmark = pytest.mark.slow

PAGES = 40
CHANGED = "js/api.js"
ROOT = Path(__file__).resolve().parents[2]
NGINX_BLOCK = re.compile(r"### A fleet mid-upgrade.*?```nginx\n(?P<block>.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def topology_options() -> dict[str, Any]:
    # Each page load is some thirty requests from one address: not the rate limit under test.
    return {"processes": (1, 1), "MOODTAPE_RATE_LIMIT": "5000"}


@pytest.fixture(scope="module")
def releases(cluster: Topology, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Instance b restarted on release B (a copy of the package with every module changed, so that a
    file from the other release shows whichever it is): the static folder of each release by its digest."""
    here = Path(moodtape.__file__).parent
    copy = tmp_path_factory.mktemp("release-b") / "moodtape"
    shutil.copytree(here, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (copy / "web" / "static" / "js").rglob("*.js"):
        with open(path, "a") as module:
            module.write("\n// release B\n")
    b = cluster.instances[1]
    b.env["PYTHONPATH"] = str(copy.parent)
    cluster.restart_instance(b)
    folders = {}
    for instance, folder in zip(cluster.instances, (here, copy), strict=True):
        page = httpx.get(f"{instance.url}/", timeout=10).text
        folders[_digest(page)] = folder / "web" / "static"
    assert len(folders) == 2, "the two releases have one digest"
    return folders


def _digest(page: str) -> str:
    found = re.search(r"/static/v/([0-9a-f]{12})/", page)
    assert found, page[:300]
    return found.group(1)


def _load(client: httpx.Client, folders: dict[str, Path]) -> tuple[int, list[str]]:
    """One page load through the balancer: the files it links, and those that did not come from its release."""
    page = client.get("/").text
    digest = _digest(page)
    urls = sorted(set(re.findall(r'"(/static/v/[0-9a-f]{12}/[^"?#]+)"', page)))
    wrong = []
    for url in urls:
        answer = client.get(url)
        expected = (folders[digest] / url.split("/", 4)[4]).read_bytes()
        if answer.status_code != 200 or answer.content != expected:
            wrong.append(f"{url} {answer.status_code} from {answer.headers.get('X-Served-By')}")
    return len(urls), wrong


@pytest.fixture(scope="module")
def nginx(cluster: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """docs/deployment.md's nginx block for a fleet mid-upgrade, in a real nginx in front of the two
    instances (only its upstream servers and port changed); yields its URL."""
    program = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if program is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    found = NGINX_BLOCK.search((ROOT / "docs" / "deployment.md").read_text(encoding="utf-8"))
    assert found is not None, "docs/deployment.md has no nginx block under 'A fleet mid-upgrade'"
    port, folder = free_port(), tmp_path_factory.mktemp("nginx")
    servers = "".join(f"    server 127.0.0.1:{instance.port};\n" for instance in cluster.instances)
    block, count = re.subn(r"(    server \S+;\n)+", servers, found["block"])
    block, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", block)
    assert count == listens == 1, "the documented block changed"
    temp = "".join(
        f"  {name}_temp_path {folder / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n{temp}{block}}}\n"
    )
    with listening([program, "-p", str(folder), "-c", str(folder / "nginx.conf")], port):
        yield f"http://127.0.0.1:{port}"


def _mixed_pages(client: httpx.Client, folders: dict[str, Path]) -> str:
    """The page loads, of :data:`PAGES`, that got a file of the other release, in words ("" for none)."""
    mixed, files = [], 0
    for _ in range(PAGES):
        count, wrong = _load(client, folders)
        files += count
        if wrong:
            mixed.append(wrong)
    assert files > PAGES * 10
    wrong = sum(map(len, mixed))
    return (
        f"{len(mixed)} of {PAGES} pages mixed two releases ({wrong} of {files} files): {mixed[0][:5]}" if mixed else ""
    )


def test_no_page_mixes_two_releases_mid_upgrade(cluster: Topology, releases: dict[str, Path]) -> None:
    with cluster.client() as client:
        said = _mixed_pages(client, releases)
    assert not said, said


def test_no_page_mixes_two_releases_through_the_documented_nginx(releases: dict[str, Path], nginx: str) -> None:
    with httpx.Client(base_url=nginx, timeout=30) as client:
        said = _mixed_pages(client, releases)
    assert not said, said


def test_the_other_live_release_asked_straight_is_a_404_naming_this_one(
    cluster: Topology, releases: dict[str, Path]
) -> None:
    """Asked straight (no balancer to retry) for the other live release's digest, the instance refers
    the request back with a 404 that names its own version, never cached."""
    a, b = cluster.instances
    digest_a, digest_b = (next(d for d, f in releases.items() if ("release-b" in str(f)) == b) for b in (False, True))
    answer = httpx.get(f"{a.url}/static/v/{digest_b}/{CHANGED}", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["error"]["code"] == "version_not_here"
    assert digest_a in answer.json()["error"]["message"]
    assert httpx.get(f"{b.url}/static/v/{digest_b}/{CHANGED}", timeout=10).status_code == 200


def test_the_shipped_haproxy_config_retries_as_the_tested_one_does() -> None:
    """deploy/haproxy.cfg has the retry rules the topology above runs (tests/cluster_topology.py)."""
    shipped = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    for line in (
        "option redispatch 1",
        "retry-on conn-failure 404",
        "http-request disable-l7-retry unless { path_beg /static/v/ /ondevice/ }",
    ):
        assert re.search(rf"^\s+{re.escape(line)}$", shipped, re.MULTILINE), line
