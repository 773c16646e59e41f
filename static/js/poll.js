// Live progress: poll the element's data-poll URL while the tab is visible and the job
// is not finished, swap the server-rendered fragment in, and reload once it finishes so
// the page shows the results.
(function () {
  const box = document.querySelector("[data-poll]");
  if (!box || box.dataset.terminal === "1") return;
  const url = box.dataset.poll;
  let timer = null;

  async function poll() {
    timer = null;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        box.innerHTML = data.fragments.progress;
        if (data.terminal) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A dropped request (server restarting) is retried on the next tick.
    }
    schedule();
  }

  function schedule() {
    if (!timer && !document.hidden) timer = setTimeout(poll, 1000);
  }

  document.addEventListener("visibilitychange", schedule);
  schedule();
})();
