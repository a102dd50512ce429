// The k-anonymity check: SHA-1 in the browser (Web Crypto); only the first 5 hex digits leave it.
(function () {
  "use strict";
  const form = document.getElementById("leak-check");
  const input = document.getElementById("leak-password");
  const result = document.getElementById("leak-result");
  if (!form || !window.crypto || !window.crypto.subtle) return;

  async function sha1Hex(text) {
    const digest = await window.crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.textContent = "";
    try {
      const hash = await sha1Hex(input.value);
      const prefix = hash.slice(0, 5);
      const suffix = hash.slice(5);
      const url = form.dataset.rangeUrl.replace("XXXXX", prefix);
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/plain" } });
      if (!response.ok) throw new Error(String(response.status));
      const lines = (await response.text()).split(/\r?\n/);
      const found = lines.some((line) => line.split(":")[0] === suffix);
      result.textContent = found ? result.dataset.found : result.dataset.clean;
      result.className = found ? "message error" : "message success";
      result.dataset.outcome = found ? "found" : "clean";
    } catch (e) {
      result.textContent = result.dataset.error;
      result.className = "message warning";
    }
  });
})();
