// The progress page of an uploaded file: asks how far its conversion is and
// moves the bar in place, then opens the check page once the file is read.
// Without JavaScript, the page's <noscript> refresh reloads it instead.

const status = document.querySelector("[data-upload-status]");
const bar = document.querySelector(".upload-progress");
const POLL_MS = 2000;

async function poll() {
  try {
    const response = await fetch(status.dataset.uploadStatus, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.redirected || (response.status >= 400 && response.status < 500)) {
      // Signed out, or the upload is no longer theirs to see: the page itself says so.
      window.location.reload();
      return;
    }
    if (response.ok) {
      const upload = await response.json();
      if (!upload.converting) {
        window.location.reload();
        return;
      }
      bar.value = upload.progress;
      bar.textContent = `${upload.progress}%`;
      if (status.textContent !== upload.message) status.textContent = upload.message;
    }
  } catch {
    // The network is away for a moment: ask again at the next turn.
  }
  window.setTimeout(poll, POLL_MS);
}

if (status && bar) window.setTimeout(poll, POLL_MS);
