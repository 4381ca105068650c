// The compact chat inside /widget. Everything from the server is put in the page with textContent
// (never innerHTML), so article text and model output stay inert whatever they contain.
(function () {
  "use strict";
  // every URL is relative to where the app is served: behind a proxy at https://host/qa/ this script is
  // /qa/widget/static/widget-app.js and the API /qa/v1/...; root-absolute paths would miss the prefix
  var root = document.currentScript ? new URL("../../", document.currentScript.src) : new URL("./", location.href);
  function endpoint(path) { return new URL(path, root).href; }
  var params = new URLSearchParams(location.search);
  var mode = params.get("mode") === "llm" || params.get("mode") === "extractive" ? params.get("mode") : null;
  // what the embedding site restricted answers to (data-date-from/-to, data-publisher, data-source)
  var filters = {};
  if (params.get("date_from")) filters.date_from = params.get("date_from");
  if (params.get("date_to")) filters.date_to = params.get("date_to");
  if (params.getAll("publisher").length) filters.publisher = params.getAll("publisher");
  if (params.getAll("source").length) filters.source = params.getAll("source");
  var filtered = Object.keys(filters).length > 0;
  var log = document.getElementById("qa-log");
  var form = document.getElementById("qa-form");
  var input = document.getElementById("qa-input");
  var sendBtn = document.getElementById("qa-send");
  var stopBtn = document.getElementById("qa-stop");
  var status = document.getElementById("qa-status");
  var history = [];
  // a refusal that names what to look for (grounding.code -> its words around grounding.missing, as the chat's
  // REFUSAL_WHY in rag/web/render.py)
  var REFUSAL_WHY = {
    names_missing: "기사에 나오지 않는 말: {names}",
    value_not_near_name: "{names} 곁에 묻는 값을 적은 기사가 없습니다",
    names_not_cited: "답할 문장의 기사에 나오지 않는 말: {names}"
  };
  // a refusal under the site's filters holds only within them (the chat's SCOPED_REFUSAL in rag/web/render.py)
  var SCOPED_REFUSAL = "선택한 검색 범위(기간·언론사·기사) 안에서만 찾았습니다. 범위를 넓히면 찾을 수도 있습니다.";
  // the server bounds a conversation (app.max_history_turns / _chars); the answer only uses the last
  // few turns, so the widget sends those and a long chat never runs into the limit
  var HISTORY_TURNS = 8, HISTORY_CHARS = 3000;
  // the browser's own words for a failed fetch ("Failed to fetch", "network error") tell a reader nothing
  var UNREACHABLE = "서버에 연결할 수 없습니다. 잠시 후 다시 보내 주세요.";
  var CUT_OFF = "답변을 받는 중에 연결이 끊겼습니다. 다시 보내 주세요.";
  var controller = null;
  var counter = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // "2025-11-07" -> "2025년 11월 7일", "2024" -> "2024년" (as rag/article_dates.korean_date)
  function koreanDate(iso) {
    var units = ["년", "월", "일"];
    return String(iso).split("-").map(function (part, i) { return parseInt(part, 10) + units[i]; }).join(" ");
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // a fetch or a read that failed for the network's sake (not a stop the reader asked for): said in our words,
  // and the question goes back in the box to be sent again
  function lostError(words) {
    var lost = new Error(words);
    lost.lost = true;
    return lost;
  }
  function connectionLost(words) {
    return function (err) {
      if (err && err.name === "AbortError") throw err;
      throw lostError(words);
    };
  }

  // answer text with [n] markers as clickable spans that point at the source card n
  function renderAnswer(box, text, citations, prefix) {
    box.textContent = "";
    var known = {};
    (citations || []).forEach(function (c) { known[c.n] = true; });
    var re = /\[(\d{1,3})\]/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      box.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (known[m[1]]) {
        // a button, so a reader on the keyboard reaches it (Tab) and opens its card (Enter, Space)
        var cite = el("button", "qa-cite", "[" + m[1] + "]");
        cite.type = "button";
        cite.setAttribute("aria-label", "출처 " + m[1]);
        cite.setAttribute("data-target", prefix + m[1]);
        cite.addEventListener("click", function (ev) {
          // the cited sentence, inside its article's card: both flash
          var mark = document.getElementById(ev.currentTarget.getAttribute("data-target"));
          if (!mark) return;
          var flashed = [mark.closest(".qa-card"), mark].filter(Boolean);
          mark.scrollIntoView({ block: "nearest" });
          flashed.forEach(function (node) { node.classList.add("qa-flash"); });
          setTimeout(function () { flashed.forEach(function (node) { node.classList.remove("qa-flash"); }); }, 1200);
        });
        box.appendChild(cite);
      } else {
        box.appendChild(document.createTextNode(m[0]));
      }
      last = re.lastIndex;
    }
    box.appendChild(document.createTextNode(text.slice(last)));
  }

  // one card per article (the server's `sources`), its cited sentences in the article's order, each a <mark>
  // whose id its [n] opens
  function renderSources(bubble, sources, citations, prefix) {
    var byN = {}, list = el("div", "qa-sources");
    (citations || []).forEach(function (c) { if (!byN[c.n]) byN[c.n] = c; });
    (sources || []).forEach(function (s) {
      var cited = (s.citations || []).map(function (n) { return byN[n]; }).filter(Boolean);
      if (!cited.length) return;
      cited.sort(function (a, b) { return a.start - b.start || a.n - b.n; });
      var numbers = (s.citations || []).map(function (n) { return "[" + n + "]"; }).join("");
      var card = el("div", "qa-card");
      card.id = prefix + "card-" + s.citations[0];
      card.setAttribute("data-source", s.source || "");
      card.appendChild(el("div", "qa-title", numbers + " " + (s.title || s.source || "") + (s.date ? " (" + s.date + ")" : "")));
      card.appendChild(el("div", "qa-meta", [s.publisher, s.date, s.source].filter(Boolean).join(" · ")));
      cited.forEach(function (c) {
        var quote = el("div", "qa-quote");
        if (cited.length > 1) quote.appendChild(el("span", "qa-num", "[" + c.n + "] "));
        var mark = el("mark", null, c.quote || "");
        mark.id = prefix + c.n;
        quote.appendChild(mark);
        card.appendChild(quote);
      });
      list.appendChild(card);
    });
    if (list.childNodes.length) bubble.appendChild(list);
  }

  function addFeedback(bubble, result) {
    var bar = el("div", "qa-feedback", "도움이 되었나요?");
    var said = el("span", "qa-feedback-error");
    ["up", "down"].forEach(function (vote) {
      var b = el("button", null, vote === "up" ? "좋아요" : "아쉬워요");
      b.type = "button";
      b.setAttribute("aria-label", vote);
      b.addEventListener("click", function () {
        fetch(endpoint("api/feedback"), { method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ vote: vote, answer: result }) }).then(function (resp) {
          if (resp.ok) { bar.textContent = "피드백 고맙습니다."; return; }
          // not stored (over the rate limit, a server error): the buttons stay, to vote again later
          var wait = resp.headers.get("retry-after");
          said.textContent = resp.status === 429 ? "피드백을 보내지 못했습니다. " + (wait ? wait + "초 뒤에" : "잠시 후") + " 다시 눌러 주세요."
                                                 : "피드백을 보내지 못했습니다 (HTTP " + resp.status + ").";
        }, function () { said.textContent = "피드백을 보내지 못했습니다. 서버에 연결할 수 없습니다."; });
      });
      bar.appendChild(b);
    });
    bar.appendChild(said);
    bubble.appendChild(bar);
  }

  function setBusy(busy) {
    sendBtn.hidden = busy; stopBtn.hidden = !busy; input.disabled = busy;
  }

  async function ask(question) {
    var prefix = "qa-src-" + (++counter) + "-";
    log.appendChild(el("div", "qa-msg qa-user", question));
    var bubble = el("div", "qa-msg qa-bot");
    var text = el("div", "qa-text", "…");
    bubble.appendChild(text);
    log.appendChild(bubble);
    scrollDown();
    var recent = history.slice(-HISTORY_TURNS).map(function (t) { return { role: t.role, content: t.content.slice(0, HISTORY_CHARS) }; });
    var messages = recent.concat([{ role: "user", content: question }]);
    var body = { model: "sangsaeng-qa", messages: messages, stream: true };
    if (mode) body.mode = mode;
    if (filtered) body.filters = filters;
    controller = new AbortController();
    setBusy(true);
    var streamed = "", final = null, giveBack = false;
    try {
      var resp = await fetch(endpoint("v1/chat/completions"), { method: "POST", signal: controller.signal,
        headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).catch(connectionLost(UNREACHABLE));
      if (!resp.ok) {
        // a question refused as asked (too long: the server's limit, its message says it) goes back in the box
        giveBack = resp.status === 400 || resp.status === 413;
        var err = await resp.json().catch(function () { return {}; });
        // only 429 and a 503 of type "busy" mean too many requests; a 503 "unavailable" (start-up failed, the
        // store cannot be reached) is no reason to retry soon: its message says what is wrong
        var kind = err.error && err.error.type;
        var busy = resp.status === 429 || (resp.status === 503 && kind === "busy");
        var wait = resp.headers.get("retry-after");
        if (busy) throw new Error("요청이 너무 많습니다. " + (wait ? wait + "초 뒤에" : "잠시 후") + " 다시 시도해 주세요.");
        var said = (err.error && err.error.message) || ("HTTP " + resp.status);
        throw new Error(kind === "unavailable" ? "지금은 답할 수 없습니다 (" + said + ")" : said);
      }
      var reader = resp.body.getReader(), decoder = new TextDecoder(), buffer = "";
      while (true) {
        // a connection dropped once the final chunk is in lost nothing: that answer is shown
        var chunk = await reader.read().catch(final ? function () { return { done: true }; } : connectionLost(CUT_OFF));
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(function (part) {
          var line = part.replace(/^data: /, "").trim();
          if (!line || line === "[DONE]") return;
          var data = JSON.parse(line);
          if (data.error) throw new Error(data.error.message);
          var choice = data.choices && data.choices[0];
          if (!streamed && (data.draft || data.status)) {
            text.textContent = data.draft ? "초안: " + data.draft : data.status;
            text.classList.add("qa-draft");
          }
          if (choice && choice.delta && choice.delta.content) {
            streamed += choice.delta.content; text.textContent = streamed; text.classList.remove("qa-draft"); scrollDown();
          }
          if (choice && choice.finish_reason) final = data;
        });
      }
      // the stream ended without its last chunk (a proxy that gave up, a server that stopped): not an answer
      if (!final) throw lostError(CUT_OFF);
      if (final) {
        var answerText = final.answer || streamed;
        text.classList.remove("qa-draft");
        // a follow-up is searched standalone ("그 회사의 …" -> "LG이노텍의 …"): the reader sees how
        if (final.searched_as) bubble.insertBefore(el("div", "qa-searched", "이렇게 찾았습니다: " + final.searched_as), text);
        if (final.refused) {
          bubble.classList.add("qa-refused");
          text.textContent = "근거를 찾지 못했습니다." + (answerText && answerText.indexOf("근거를 찾지 못했습니다") < 0 ? "\n" + answerText : "");
          var why = final.grounding || {};
          if (REFUSAL_WHY[why.code] && why.missing && why.missing.length) {
            bubble.appendChild(el("div", "qa-why", REFUSAL_WHY[why.code].replace("{names}", why.missing.join(", "))));
          }
          if (filtered) bubble.appendChild(el("div", "qa-scope", SCOPED_REFUSAL));
        } else {
          renderAnswer(text, answerText, final.citations, prefix);
          if (final.short) {
            var short = el("div", "qa-short", final.short);
            // "7일" of "지난 7일": the date its article's date makes of it (rag/article_dates.py)
            if (final.short_date) short.appendChild(el("span", "qa-short-date", " (" + koreanDate(final.short_date) + ")"));
            bubble.insertBefore(short, text);
          }
          if (final.notice) bubble.appendChild(el("div", "qa-notice", final.notice));
          var unnamed = (final.grounding || {}).unnamed;
          if (unnamed && unnamed.length) {
            // the cited articles never name what was asked about: the answer may be about something else
            bubble.appendChild(el("div", "qa-caution", "인용한 기사에 나오지 않는 말: " + unnamed.join(", ") + " — 다른 대상에 관한 답일 수 있습니다"));
          }
          renderSources(bubble, final.sources, final.citations, prefix);
        }
        var dangling = (final.grounding || {}).dangling;
        if (dangling) {
          // a first question opening with "그 회사" / "거기": nothing earlier says what it stands for
          bubble.appendChild(el("div", "qa-caution", "앞선 질문이 없어 ‘" + dangling + "’의 대상을 알 수 없습니다. 이름을 넣어 다시 물어 보세요."));
        }
        history = messages.concat([{ role: "assistant", content: answerText }]);
        addFeedback(bubble, { question: question, answer: answerText, refused: !!final.refused, citations: final.citations || [] });
      }
    } catch (e) {
      text.textContent = e.name === "AbortError" ? (streamed || "") + " (중지됨)" : "오류: " + e.message;
      if (e.lost) { text.classList.remove("qa-draft"); giveBack = true; }
    } finally {
      controller = null;
      setBusy(false);
      if (giveBack && !input.value) input.value = question;
      input.focus();
      scrollDown();
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q || controller) return;
    input.value = "";
    ask(q);
  });
  stopBtn.addEventListener("click", function () { if (controller) controller.abort(); });
  if (filtered) {
    var scope = [filters.date_from || filters.date_to ? (filters.date_from || "") + " ~ " + (filters.date_to || "") : "",
                 (filters.publisher || []).join(", "), (filters.source || []).join(", ")].filter(Boolean).join(" · ");
    status.textContent = "검색 범위: " + scope;
  }
  fetch(endpoint("health")).then(function (r) { return r.json(); }).then(function (h) {
    if (!h.ready) status.textContent = "모델 준비 중… (질문은 준비되면 답합니다)";
  }).catch(function () {});
})();
