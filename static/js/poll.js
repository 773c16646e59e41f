// Live pages: poll the element's data-poll URL every second (or every data-interval
// milliseconds) while the tab is visible
// and the job is not finished, swap the server-rendered fragment in, refresh images
// marked data-live when the job's version (epochs done) changes, and reload once the
// job finishes so the page shows its results.
// The page's messages speak of the moment the work was asked for, and the live status
// replaces them once it moves on (errors stay): a success message ("Job #3 is queued.")
// once the polled status is past QUEUED, even when a worker took the job before this
// page was drawn; an info message ("The job stops after the batch in progress.") once
// the polled status differs from the page's own (data-status).
// A message about the work this page follows (class "live": "The import is queued")
// is stale already when the work ended before the page was drawn (a fast failure).
(function () {
  const box = document.querySelector("[data-poll]");
  if (!box) return;
  if (box.dataset.terminal === "1") {
    document.querySelectorAll(".message.live").forEach(function (message) {
      message.remove();
    });
    return;
  }
  const url = box.dataset.poll;
  const interval = Number(box.dataset.interval) || 1000;
  const status = box.dataset.status;
  let version = null;
  let timer = null;

  function dropStaleMessages(polled) {
    if (status === undefined || polled === undefined) return;
    const stale = [];
    if (polled !== "QUEUED") stale.push('[data-flash="success"]');
    if (polled !== status) stale.push('[data-flash="info"]');
    if (!stale.length) return;
    document.querySelectorAll(stale.join(", ")).forEach(function (message) {
      message.remove();
    });
  }

  // A new version of a live picture is loaded aside and put in place once it has
  // arrived: on a busy server a picture redrawn every few seconds could otherwise be
  // replaced before it ever finished loading, and the student would see none. Only the
  // newest version is put in place; until then the last one stays on the page.
  function refreshImages(newVersion) {
    if (newVersion === undefined || newVersion === version) return;
    version = newVersion;
    document.querySelectorAll("img[data-live]").forEach(function (img) {
      // Written as the server writes it, so an unchanged version is an unchanged src.
      const live = img.dataset.live;
      const src = live + (live.includes("?") ? "&" : "?") + "v=" + encodeURIComponent(version);
      const next = new Image();
      next.onload = function () {
        if (!img.isConnected || img.dataset.wanted !== src) return;
        for (const attribute of img.attributes) {
          if (attribute.name !== "src") next.setAttribute(attribute.name, attribute.value);
        }
        img.replaceWith(next);
      };
      img.dataset.wanted = src;
      next.src = src;
    });
  }

  async function poll() {
    timer = null;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        box.innerHTML = data.fragments.progress;
        dropStaleMessages(data.status);
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
