// A "Copy" button beside a read-only address (a class join link), on the site and
// in the admin. Without JavaScript the button stays hidden and the address is there to select.

for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  if (!source) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    status.textContent = "";
    try {
      await navigator.clipboard.writeText(source.value);
      status.textContent = "Copied.";
    } catch {
      // No clipboard (an insecure address, or permission refused): select it for Ctrl+C.
      source.focus();
      source.select();
      status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
    }
  });
}

// A click in the box selects the whole address, ready to copy.
for (const source of document.querySelectorAll("input.copy-source")) {
  source.addEventListener("focus", () => source.select());
}
