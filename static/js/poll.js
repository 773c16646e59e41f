// Live pages: poll the element's data-poll URL every second (or every data-interval
// milliseconds) while the tab is visible
// and the job is not finished, swap the server-rendered fragment in, refresh images
// marked data-live when the job's version (epochs done) changes, and reload once the
// job finishes so the page shows its results.
(function () {
  const box = document.querySelector("[data-poll]");
  if (!box || box.dataset.terminal === "1") return;
  const url = box.dataset.poll;
  const interval = Number(box.dataset.interval) || 1000;
  let version = null;
  let timer = null;

  function refreshImages(newVersion) {
    if (newVersion === undefined || newVersion === version) return;
    version = newVersion;
    document.querySelectorAll("img[data-live]").forEach(function (img) {
      // Written as the server writes it, so an unchanged version is an unchanged src.
      const live = img.dataset.live;
      img.src = live + (live.includes("?") ? "&" : "?") + "v=" + encodeURIComponent(version);
    });
  }

  async function poll() {
    timer = null;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        box.innerHTML = data.fragments.progress;
        refreshImages(data.version);
        if (data.terminal) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A dropped request (the server restarting) is retried on the next tick.
    }
    schedule();
  }

  function schedule() {
    if (!timer && !document.hidden) timer = setTimeout(poll, interval);
  }

  document.addEventListener("visibilitychange", schedule);
  schedule();
})();
