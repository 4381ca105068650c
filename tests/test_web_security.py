"""Requests from where they may not come, over real HTTP against the app on a loopback port:
DNS rebinding (Host), X-Forwarded-For from the wrong peer, admin routes, Gradio's upload, /health paths."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest

from rag.web.hosts import ClientAddress, HostPolicy
from rag.web.server import create_app
from test_app import FakePipeline, LiveServer, fake, make_settings  # noqa: F401 (fake: the fixture)

TOKEN = "s3cret-admin-token-0123456789"
QUESTION = "LG이노텍의 동반성장 펀드 규모는?"


def serve(tmp_path: Path, fake: FakePipeline, **app: object) -> LiveServer:
    settings = make_settings(tmp_path, allowed_hosts=(), **app)
    created = create_app(settings, lambda: fake)
    created.state.service.start(background=False)
    pipe_calls = getattr(created.state.service.pipe, "calls", None)
    if pipe_calls is not None:
        pipe_calls.clear()  # start-up asks one warm-up question: tests count only their own
    return LiveServer(created)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, seeds_dir_module: Path) -> Iterator[LiveServer]:
    """One app (with an admin token) for the tests that do not change settings: starting one costs ~2 s."""
    pipe = FakePipeline.from_folder(seeds_dir_module)
    server = serve(tmp_path_factory.mktemp("web"), pipe, admin_token=TOKEN)
    server.fake = pipe  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seeds_dir_module() -> Path:
    from rag.config import PROJECT_ROOT

    return PROJECT_ROOT / "seeds"


@pytest.fixture
def live(shared: LiveServer) -> LiveServer:
    shared.fake.calls.clear()  # type: ignore[attr-defined]
    return shared


def evil(server: LiveServer) -> dict[str, str]:
    """What a rebinding page sends: its own name as Host, and a matching (same-origin!) Origin."""
    return {"Host": f"evil.example:{server.port}", "Origin": f"http://evil.example:{server.port}"}


# --- Host allow-list ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/api/ask", {"question": QUESTION}),
        ("POST", "/api/feedback", {"vote": "up", "answer": {"question": "q", "answer": "a"}}),
        ("GET", "/health", None),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}),
        ("GET", "/", None),
        ("GET", "/config", None),
    ],
)
def test_dns_rebinding_host_is_refused(live: LiveServer, method: str, path: str, body: dict | None) -> None:
    response = httpx.request(method, live.url + path, json=body, headers=evil(live), timeout=10)
    assert response.status_code == 421, response.text
    assert response.json()["error"] == {"message": response.json()["error"]["message"], "type": "host_not_allowed", "code": 421}
    assert not live.fake.calls  # nothing was answered
    assert httpx.request(method, live.url + path, json=body, timeout=10).status_code != 421  # 127.0.0.1:port is ours


def test_dns_rebinding_cannot_reach_gradio_upload(live: LiveServer) -> None:
    files = {"files": ("a.txt", b"x" * 1000, "text/plain")}
    response = httpx.post(live.url + "/gradio_api/upload", files=files, headers={**evil(live), "Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 421


def test_missing_or_malformed_host_is_refused(live: LiveServer) -> None:
    for host in ("127.0.0.1@evil.example", "evil.example 127.0.0.1", "localhost, evil.example"):
        assert httpx.get(live.url + "/health", headers={"Host": host}, timeout=10).status_code == 421
    for host in ("localhost", f"localhost:{live.port}", f"[::1]:{live.port}", "LOCALHOST."):
        assert httpx.get(live.url + "/health", headers={"Host": host}, timeout=10).status_code == 200, host


def test_host_policy_defaults_and_settings() -> None:
    local = HostPolicy("127.0.0.1")
    assert local.is_allowed("127.0.0.1:7860") and local.is_allowed("localhost") and local.is_allowed("[::1]:7860")
    assert not local.is_allowed("evil.example") and not local.is_allowed("192.168.0.5:7860") and not local.is_allowed(None)
    assert not local.is_allowed("127.0.0.1.evil.example")
    named = HostPolicy("127.0.0.1", ["qa.example.com", ".partners.example"], public_url="https://chat.example.org/")
    assert named.is_allowed("QA.example.com:443") and named.is_allowed("chat.example.org")
    assert named.is_allowed("partners.example") and named.is_allowed("a.partners.example")
    assert not named.is_allowed("evilpartners.example")
    wildcard = HostPolicy("0.0.0.0")  # reached by the machine's own IPs; names must still be listed
    assert wildcard.is_allowed("192.168.0.5:7860") and wildcard.is_allowed("[fe80::1]") and not wildcard.is_allowed("evil.example")
    assert HostPolicy("127.0.0.1", ["*"]).is_allowed("anything.example")
    with pytest.raises(ValueError):
        HostPolicy("127.0.0.1", ["not a host/"])


# --- X-Forwarded-For -----------------------------------------------------------------------------------


def test_forwarded_for_from_an_untrusted_peer_cannot_reset_the_rate_limit(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, fake, rate_limit_per_minute=2)
    try:
        codes = [
            httpx.post(server.url + "/api/ask", json={"question": QUESTION}, headers={"X-Forwarded-For": f"10.9.8.{i}"}, timeout=10).status_code
            for i in range(3)
        ]
    finally:
        server.stop()
    assert codes == [200, 200, 429]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, fake, rate_limit_per_minute=1, trusted_proxies=("127.0.0.1",))
    try:
        def ask(client: str) -> int:
            headers = {"X-Forwarded-For": client}
            return httpx.post(server.url + "/api/ask", json={"question": QUESTION}, headers=headers, timeout=10).status_code

        # each client has its own budget; what a client writes on the left of the header changes nothing
        assert [ask("203.0.113.1"), ask("203.0.113.2"), ask("203.0.113.1"), ask("198.51.100.7, 203.0.113.2")] == [200, 200, 429, 429]
    finally:
        server.stop()


def test_client_address_reads_forwarded_for_right_to_left() -> None:
    clients = ClientAddress(["10.0.0.0/8", "127.0.0.1"])
    assert clients.resolve("10.0.0.2", "203.0.113.9") == "203.0.113.9"
    assert clients.resolve("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.7") == "203.0.113.9"  # the spoofed 1.2.3.4 is never reached
    assert clients.resolve("198.51.100.1", "1.2.3.4") == "198.51.100.1"  # not a proxy: header ignored
    assert clients.resolve("10.0.0.2", "garbage") == "10.0.0.2"
    assert clients.resolve("127.0.0.1", "[2001:db8::1]:443") == "2001:db8::1"
    assert ClientAddress().resolve("127.0.0.1", "203.0.113.9") == "127.0.0.1"  # no proxies configured: never trusted


# --- /health -----------------------------------------------------------------------------------------------


class PathsPipeline(FakePipeline):
    def describe(self) -> dict:
        return {**super().describe(), "store": Path("/srv/secret/store"), "embedding_model": "/opt/models/e5", "generation_model": "qwen"}


def test_health_shows_paths_only_to_this_machine(tmp_path: Path, fake: FakePipeline) -> None:
    pipe = PathsPipeline(list(fake.articles.values()))
    server = serve(tmp_path, pipe, trusted_proxies=("127.0.0.1",))
    try:
        local = httpx.get(server.url + "/health", timeout=10).json()
        remote = httpx.get(server.url + "/health", headers={"X-Forwarded-For": "203.0.113.5"}, timeout=10).json()
    finally:
        server.stop()
    assert local["pipeline"]["store"] == "/srv/secret/store"
    assert remote["ready"] is True and remote["pipeline"]["generation_model"] == "qwen" and "n_docs" in remote["pipeline"]
    assert "/srv" not in str(remote) and "/opt" not in str(remote)


class GoneStorePipeline(FakePipeline):
    """Its store folder was removed under the running app: every question meets the store's error."""

    def stream(self, *args, **kwargs):
        from rag.store import StoreError

        if self.warmed:  # start-up's warm-up question still passes
            raise StoreError("cannot use the store folder /srv/secret/store: No such file or directory")
        return super().stream(*args, **kwargs)


def test_a_503_names_paths_only_to_this_machine(tmp_path: Path, fake: FakePipeline) -> None:
    """As /health: a store or start-up error's message keeps its paths for this machine only."""
    from rag.store import StoreBusyError

    def failed_start() -> FakePipeline:
        raise StoreBusyError("the store folder /srv/secret/store is already open in another process (pid 4242)")

    gone = serve(tmp_path / "gone", GoneStorePipeline(list(fake.articles.values())), trusted_proxies=("127.0.0.1",))
    settings = make_settings(tmp_path / "busy", allowed_hosts=(), trusted_proxies=("127.0.0.1",))
    busy_app = create_app(settings, failed_start)
    busy_app.state.service.start(background=False)
    busy = LiveServer(busy_app)
    remote = {"X-Forwarded-For": "203.0.113.5"}
    chat = {"messages": [{"role": "user", "content": QUESTION}], "mode": "extractive"}
    try:
        for server in (gone, busy):
            for headers, shown in (({}, True), (remote, False)):
                plain = httpx.post(server.url + "/api/ask", json={"question": QUESTION}, headers=headers, timeout=30)
                assert plain.status_code == 503 and plain.json()["error"]["type"] == "unavailable"
                message = plain.json()["error"]["message"]
                assert ("/srv/secret/store" in message) is shown and "store folder" in message, message
                streamed = httpx.post(server.url + "/v1/chat/completions", json={**chat, "stream": True}, headers=headers, timeout=30)
                assert ("/srv/secret" in streamed.text) is shown and "store folder" in streamed.text, streamed.text
    finally:
        gone.stop()
        busy.stop()


# --- admin routes and Gradio's upload --------------------------------------------------------------------------


def test_admin_routes_need_the_token(live: LiveServer) -> None:
    url = live.url + "/api/articles"
    assert httpx.get(url, timeout=10).status_code == 401
    wrong = httpx.get(url, headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"}, timeout=10)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert wrong.json()["error"]["type"] == "unauthorized"
    assert httpx.get(url, headers={"Authorization": f"Basic {TOKEN}"}, timeout=10).status_code == 401
    ok = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["articles"] == []  # the article manager (rag.web.articles)
    httpx.post(live.url + "/api/feedback", json={"vote": "down", "answer": {"question": "관리자 확인", "answer": "a"}}, timeout=10)
    votes = httpx.get(live.url + "/api/admin/feedback?limit=1", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert votes.status_code == 200 and [v["question"] for v in votes.json()["feedback"]] == ["관리자 확인"]


def test_a_client_over_the_limit_cannot_tell_the_right_token_from_a_wrong_one(tmp_path: Path, fake: FakePipeline) -> None:
    # 429 for the guesses but 200 for the right token would say which guess was right: once over the
    # limit every admin call gets 429, the right token included, until the window passes
    server = serve(tmp_path, fake, admin_token=TOKEN, rate_limit_per_minute=3)
    try:
        url = server.url + "/api/articles"
        wrong = [httpx.get(url, headers={"Authorization": f"Bearer wrong-{i}"}, timeout=10).status_code for i in range(5)]
        right = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    finally:
        server.stop()
    assert wrong == [401, 401, 401, 429, 429]
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


def test_retry_after_looks_without_spending_and_ends_with_the_window() -> None:
    from rag.web.security import RateLimiter

    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.retry_after("a") == 0.0 and limiter.check("a") == 0.0
    assert limiter.retry_after("a") == 0.0 and limiter.check("a") == 0.0  # looking did not spend
    now[0] = 30.0
    assert limiter.retry_after("a") == 30.0 and limiter.retry_after("b") == 0.0
    now[0] = 60.0
    assert limiter.retry_after("a") == 0.0


def test_the_right_token_does_not_spend_the_limit(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, fake, admin_token=TOKEN, rate_limit_per_minute=2)
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        codes = [httpx.get(server.url + "/api/articles", headers=auth, timeout=10).status_code for _ in range(4)]
    finally:
        server.stop()
    assert codes == [200, 200, 200, 200]  # the admin's own page polls: only failures count


def test_admin_routes_refuse_other_origins_and_the_widget(live: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for origin in ("http://allowed.example:8080", "http://127.0.0.1:9"):  # even an origin allowed to embed the widget
        response = httpx.get(live.url + "/api/articles", headers={**auth, "Origin": origin}, timeout=10)
        assert response.status_code == 403 and "access-control-allow-origin" not in response.headers
        preflight = httpx.options(
            live.url + "/api/articles", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=10
        )
        assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    from_widget = httpx.get(live.url + "/api/articles", headers={**auth, "Referer": live.url + "/widget?mode=extractive"}, timeout=10)
    assert from_widget.status_code == 403
    behind_a_prefix = live.url + "/qa/widget?mode=extractive"  # --public-url https://host/qa/ behind a proxy
    assert httpx.get(live.url + "/api/articles", headers={**auth, "Referer": behind_a_prefix}, timeout=10).status_code == 403
    assert httpx.get(live.url + "/api/articles", headers={**auth, "Referer": live.url + "/qa/"}, timeout=10).status_code == 200
    same_origin = httpx.get(live.url + "/api/articles", headers={**auth, "Origin": live.url, "Referer": live.url + "/"}, timeout=10)
    assert same_origin.status_code == 200


def test_admin_routes_are_off_without_a_token(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, fake)
    try:
        for path in ("/api/articles", "/api/admin/feedback"):
            response = httpx.get(server.url + path, headers={"Authorization": "Bearer anything-at-all-0123"}, timeout=10)
            assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"
        upload = httpx.post(server.url + "/gradio_api/upload", files={"files": ("a.txt", b"hello", "text/plain")}, timeout=10)
        assert upload.status_code == 404
    finally:
        server.stop()


def test_gradio_upload_is_admin_only_and_size_limited(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, fake, admin_token=TOKEN, max_upload_bytes=50_000)
    try:
        small = {"files": ("a.txt", "기사 본문".encode(), "text/plain")}
        assert httpx.post(server.url + "/gradio_api/upload", files=small, timeout=10).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(server.url + "/gradio_api/upload", files=small, headers=auth, timeout=10).status_code == 200
        big = {"files": ("b.txt", b"x" * 60_000, "text/plain")}
        too_big = httpx.post(server.url + "/gradio_api/upload", files=big, headers=auth, timeout=10)
        assert too_big.status_code == 413 and too_big.json()["error"]["type"] == "request_too_large"
    finally:
        server.stop()


def test_short_admin_token_is_a_settings_error(tmp_path: Path) -> None:
    from rag.config import SettingsError

    with pytest.raises(SettingsError, match="admin_token"):
        make_settings(tmp_path, admin_token="short")


def test_admin_and_network_settings_come_from_the_environment(tmp_path: Path) -> None:
    from rag.config import SettingsError, load_settings

    env = {"RAG_APP__ADMIN_TOKEN": TOKEN, "RAG_APP__TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1", "RAG_APP__ALLOWED_HOSTS": "qa.example.com"}
    settings = load_settings(None, env=env)
    assert settings.app.admin_token == TOKEN and TOKEN not in repr(settings)  # never in a log line
    assert settings.app.trusted_proxies == ("10.0.0.0/8", "127.0.0.1") and settings.app.allowed_hosts == ("qa.example.com",)
    with pytest.raises(SettingsError, match="trusted_proxies"):
        create_app(make_settings(tmp_path, trusted_proxies=("not-an-address",)), lambda: None)
