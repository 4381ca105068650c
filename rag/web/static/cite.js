// [n] markers in answers are links to "#src-<answer>-<n>": scroll the matching source card into view instead
// of navigating (Gradio's chatbot would otherwise open links in a new tab).
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest ? event.target.closest("a.cite") : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  // Gradio's sanitizer keeps href but drops data-* attributes: the card id is the link's fragment
  var card = document.getElementById((link.getAttribute("href") || "").replace(/^#/, ""));
  if (!card) return;
  // a [n] in an earlier answer: show that answer's cards in place of the newest answer's
  var group = card.closest(".source-group");
  if (group && group.classList.contains("earlier")) {
    document.querySelectorAll(".source-group").forEach(function (g) { g.classList.toggle("earlier", g !== group); });
  }
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.add("flash");
  setTimeout(function () { card.classList.remove("flash"); }, 1500);
}, true);
