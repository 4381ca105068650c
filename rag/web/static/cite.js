// [n] markers in answers are links to "#src-<answer>-<n>": scroll the matching cited sentence (a <mark> in its
// article's card) into view and flash it and its card, instead of navigating (Gradio's chatbot would otherwise
// open links in a new tab). A source's title links to its card ("#src-<answer>-card-<n>").
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest ? event.target.closest("a.cite") : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  // Gradio's sanitizer keeps href but drops data-* attributes: the target id is the link's fragment
  var target = document.getElementById((link.getAttribute("href") || "").replace(/^#/, ""));
  if (!target) return;
  var card = target.closest(".source-card") || target;
  // a [n] in an earlier answer: show that answer's cards in place of the newest answer's
  var group = card.closest(".source-group");
  if (group && group.classList.contains("earlier")) {
    document.querySelectorAll(".source-group").forEach(function (g) { g.classList.toggle("earlier", g !== group); });
  }
  target.scrollIntoView({ behavior: "smooth", block: "center" });
  var flashed = target === card ? [card] : [card, target];
  flashed.forEach(function (el) { el.classList.add("flash"); });
  setTimeout(function () { flashed.forEach(function (el) { el.classList.remove("flash"); }); }, 1500);
}, true);
