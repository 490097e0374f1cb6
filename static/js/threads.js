// The teaching staff's "Expand all threads" and "Collapse all threads" on a
// reading's page. Threads are <details>: without JavaScript the buttons stay
// hidden and each thread still opens on its own.

const toggles = document.querySelector("[data-thread-toggles]");
if (toggles) {
  const setAll = (open) => {
    for (const thread of document.querySelectorAll("details.thread, details.more-replies")) {
      thread.open = open;
    }
    const live = document.getElementById("live");
    if (live) live.textContent = open ? "All threads expanded." : "All threads collapsed.";
  };
  toggles.querySelector("[data-threads-open]").addEventListener("click", () => setAll(true));
  toggles.querySelector("[data-threads-close]").addEventListener("click", () => setAll(false));
  toggles.hidden = false;
}
