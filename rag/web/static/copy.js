// Gradio's copy button puts a message's raw value on the clipboard. Our answers are HTML (every character
// escaped to an entity, [n] links, the 출처 line), so a reader pasting a cited answer into a report got markup.
// Copy what the reader sees instead: the message's text, its [n] markers and sources included.
(function () {
  var pending = null; // the text of the message whose copy button was just clicked

  function messageText(button) {
    // the buttons sit in a bar after the message's row, inside the same message-wrap
    var bar = button.closest(".message-buttons");
    for (var row = bar && bar.previousElementSibling; row; row = row.previousElementSibling) {
      var message = row.querySelector('[data-testid="bot"], [data-testid="user"]');
      if (message) return message.innerText.trim();
    }
    return null;
  }

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("#chat .message-buttons button") : null;
    if (!button || !/copy|복사/i.test(button.getAttribute("aria-label") || "")) return;
    pending = messageText(button);
    setTimeout(function () { pending = null; }, 1000); // only the write that this click starts
  }, true);

  if (navigator.clipboard && navigator.clipboard.writeText) {
    var write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = function (text) {
      var seen = pending;
      pending = null;
      return write(seen !== null ? seen : text);
    };
  }
  // where navigator.clipboard is missing (a page served over plain http from another host), Gradio copies
  // through a hidden textarea and execCommand("copy"): the copy event carries what lands
  document.addEventListener("copy", function (event) {
    if (pending === null || !event.clipboardData) return;
    event.clipboardData.setData("text/plain", pending);
    event.preventDefault();
    pending = null;
  });
})();
