// The article manager inside the "기사 관리 (Articles)" tab. Gradio's front end cannot send an
// Authorization header, so this page calls /api/articles itself with the admin token the user types;
// the token lives in this tab's sessionStorage only (gone when the tab closes, never in a cookie).
// Everything from the server is put in the page with textContent, never innerHTML.
(function () {
  "use strict";
  var KEY = "sangsaeng-qa-admin-token";
  var $ = function (id) { return document.getElementById(id); };
  var articles = [];

  function token() { return sessionStorage.getItem(KEY) || ""; }

  function say(text, kind) {
    var box = $("am-message");
    box.textContent = text || "";
    box.className = kind || "";
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // what a refusal means for the person at the keyboard
  function explain(status, body) {
    var msg = body && body.error && body.error.message;
    if (status === 404 && !msg) return "관리 기능이 꺼져 있습니다.";
    if (status === 404 && /not found/.test(msg || "")) return "관리 기능이 꺼져 있습니다 (설정 app.admin_token이 비어 있음).";
    if (status === 401) return "토큰이 없거나 틀렸습니다 (401).";
    if (status === 403) return "이 주소에서는 관리 기능을 쓸 수 없습니다 (403).";
    if (status === 429) return "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.";
    return (msg || "오류") + " (" + status + ")";
  }

  async function call(method, path, body) {
    var headers = { "Authorization": "Bearer " + token() };
    var resp = await fetch(path, { method: method, headers: headers, body: body });
    var data = await resp.json().catch(function () { return {}; });
    return { status: resp.status, ok: resp.ok, data: data };
  }

  async function loadList() {
    var got = await call("GET", "/api/articles");
    if (!got.ok) {
      articles = [];
      render();
      $("am-auth-state").textContent = got.status === 401 ? "토큰 필요" : "";
      say(explain(got.status, got.data), "error");
      return false;
    }
    articles = got.data.articles || [];
    $("am-auth-state").textContent = "관리자로 연결됨";
    fillPublishers();
    render();
    return true;
  }

  function fillPublishers() {
    var select = $("am-publisher"), chosen = select.value, seen = {};
    while (select.options.length > 1) select.remove(1);
    articles.forEach(function (a) { if (a.publisher) seen[a.publisher] = true; });
    Object.keys(seen).sort().forEach(function (p) { var o = el("option", null, p); o.value = p; select.appendChild(o); });
    select.value = seen[chosen] ? chosen : "";
  }

  function render() {
    var rows = $("am-rows"), needle = $("am-filter").value.trim().toLowerCase(), publisher = $("am-publisher").value;
    rows.textContent = "";
    var shown = articles.filter(function (a) {
      var hay = [a.doc_id, a.title, a.publisher || "", a.author || ""].join(" ").toLowerCase();
      return (!needle || hay.indexOf(needle) >= 0) && (!publisher || a.publisher === publisher);
    });
    shown.forEach(function (a) {
      var tr = el("tr");
      tr.setAttribute("data-doc", a.doc_id);
      tr.appendChild(el("td", "title", a.title || "(제목 없음)"));
      tr.appendChild(el("td", "date", a.date || "-"));
      tr.appendChild(el("td", "publisher", a.publisher || "-"));
      var doc = el("td", "doc", a.doc_id);
      if (a.uploaded) doc.appendChild(el("span", "badge", "업로드"));
      tr.appendChild(doc);
      tr.appendChild(el("td", "chunks", a.chunks));
      tr.appendChild(el("td", "when", (a.ingested_at || "").replace("T", " ").replace("Z", "")));
      var cell = el("td");
      var del = el("button", "danger", "삭제");
      del.type = "button";
      // two clicks instead of confirm(): a dialog would block the page (and tests)
      del.addEventListener("click", function () {
        if (!del.classList.contains("armed")) {
          del.classList.add("armed");
          del.textContent = "정말 삭제?";
          setTimeout(function () { del.classList.remove("armed"); del.textContent = "삭제"; }, 4000);
          return;
        }
        remove(a.doc_id, del);
      });
      cell.appendChild(del);
      tr.appendChild(cell);
      rows.appendChild(tr);
    });
    $("am-count").textContent = shown.length === articles.length ? "(" + articles.length + ")" : "(" + shown.length + " / " + articles.length + ")";
  }

  async function remove(docId, button) {
    button.disabled = true;
    var got = await call("DELETE", "/api/articles/" + docId.split("/").map(encodeURIComponent).join("/"));
    if (got.ok) {
      say("삭제했습니다: " + docId + (got.data.file ? " (파일 " + got.data.file + " 도 지움)" : ""), "ok");
      await loadList();
    } else {
      button.disabled = false;
      say(explain(got.status, got.data), "error");
    }
  }

  function showFiles(entries) {
    var list = $("am-results");
    entries.forEach(function (f) {
      var status = f.status === "rejected" ? "rejected" : f.status;
      var text = (f.path || f.name || f.file) + " — " + ({ accepted: "받음", placed: "색인 대상", rejected: "거부" }[status] || status);
      if (f.message || f.reason) text += ": " + (f.message || f.reason);
      list.appendChild(el("li", status, text));
    });
  }

  async function follow(job) {
    $("am-job").hidden = false;
    var line = $("am-job-line"), bar = $("am-progress");
    while (true) {
      var got = await call("GET", "/api/articles/jobs/" + job.id);
      if (!got.data.job) { say(explain(got.status, got.data), "error"); return; }
      job = got.data.job;
      var p = job.progress || {};
      bar.max = Math.max(1, p.total || 1);
      bar.value = p.done || 0;
      line.textContent = ({ queued: "대기 중", running: "색인 중", done: "완료", failed: "실패" }[job.state] || job.state) +
        (job.stage ? " · " + job.stage : "") + (p.total ? " · " + p.done + "/" + p.total + "건" : "");
      if (got.status === 200) break;
      await new Promise(function (r) { setTimeout(r, 500); });
    }
    if (job.state === "failed") { say("색인 실패: " + job.error, "error"); return; }
    var result = job.result || {}, ingest = result.ingest || {};
    if (result.files) showFiles(result.files);
    if (ingest.skipped) showFiles(ingest.skipped.map(function (s) { return { file: s.file, status: "rejected", reason: s.reason }; }));
    say("색인 완료: 추가 " + (ingest.added || []).length + ", 갱신 " + (ingest.updated || []).length +
        ", 삭제 " + (ingest.deleted || []).length + ", 변화 없음 " + (ingest.unchanged || []).length, "ok");
    await loadList();
  }

  async function send() {
    var files = $("am-files").files;
    if (!files.length) { say("올릴 파일을 고르세요.", "error"); return; }
    var form = new FormData();
    for (var i = 0; i < files.length; i++) form.append("files", files[i], files[i].name);
    $("am-results").textContent = "";
    $("am-send").disabled = true;
    say("올리는 중…");
    try {
      var got = await call("POST", "/api/articles", form);
      if (got.data.uploads) showFiles(got.data.uploads.files);
      if (!got.ok) { say(explain(got.status, got.data), "error"); return; }
      $("am-files").value = "";
      await follow(got.data.job);
    } finally {
      $("am-send").disabled = false;
    }
  }

  async function reingest() {
    $("am-results").textContent = "";
    var got = await call("POST", "/api/articles/reingest");
    if (!got.ok) { say(explain(got.status, got.data), "error"); return; }
    await follow(got.data.job);
  }

  $("am-login").addEventListener("click", function () {
    sessionStorage.setItem(KEY, $("am-token").value.trim());
    $("am-token").value = "";
    say("");
    loadList();
  });
  $("am-token").addEventListener("keydown", function (ev) { if (ev.key === "Enter") $("am-login").click(); });
  $("am-logout").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    articles = [];
    render();
    $("am-auth-state").textContent = "토큰을 지웠습니다.";
  });
  $("am-send").addEventListener("click", send);
  $("am-reingest").addEventListener("click", reingest);
  $("am-refresh").addEventListener("click", loadList);
  $("am-filter").addEventListener("input", render);
  $("am-publisher").addEventListener("change", render);
  if (token()) loadList();
})();
