// The Predict page reads the drawing while the student draws: after each stroke the
// canvas is sent to predict/live/ (nothing is stored) and the model's reading and its
// 28x28 input are shown beside it. One request at a time, at most one every
// MIN_INTERVAL ms: strokes drawn meanwhile are read together in the next one, so a
// class drawing at once keeps the predict queue within its targets. A drawing the busy
// worker could not read in time is asked again a few times, so the last stroke is read.
(function () {
  const box = document.querySelector("[data-live-reading]");
  const canvas = document.querySelector("[data-canvas]");
  if (!box || !canvas) return;
  const form = canvas.closest("form");
  const MIN_INTERVAL = 700;
  let inFlight = false;
  let waiting = false;
  let lastSent = 0;
  let timer = null;
  let generation = 0; // a reading of a drawing since cleared is not shown
  let retries = 0;
  const MAX_RETRIES = 3;

  function field(name) {
    const input = form.querySelector("[name='" + name + "']");
    return input ? input.value : "";
  }

  function show(answer) {
    box.hidden = false;
    box.querySelector("[data-live-note]").textContent = "";
    box.querySelector("[data-live-char]").textContent = answer.char;
    box.querySelector("[data-live-top]").textContent = answer.top5
      .slice(0, 3)
      .map(function (pair) {
        return pair[0] + " " + Math.round(pair[1] * 100) + "%";
      })
      .join(" · ");
    box.querySelector("[data-live-input]").src = answer.input;
  }

  function note(text) {
    box.hidden = false;
    box.querySelector("[data-live-note]").textContent = text;
  }

  async function send() {
    timer = null;
    waiting = false;
    inFlight = true;
    lastSent = Date.now();
    const sentFor = generation;
    const body = new FormData();
    body.append("csrfmiddlewaretoken", field("csrfmiddlewaretoken"));
    body.append("model", field("model"));
    body.append("canvas", canvas.toDataURL("image/png"));
    try {
      const response = await fetch(box.dataset.liveReading, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
      });
      const answer = await response.json();
      if (sentFor === generation) {
        if (response.ok) show(answer);
        else note(answer.error);
        if (response.status === 503 && !waiting && retries < MAX_RETRIES) {
          retries += 1;
          waiting = true; // the same drawing, once more
        }
      }
    } catch (error) {
      // A dropped request: the next stroke asks again.
    }
    inFlight = false;
    if (waiting) schedule();
  }

  function schedule() {
    waiting = true;
    if (inFlight || timer) return;
    timer = setTimeout(send, Math.max(0, lastSent + MIN_INTERVAL - Date.now()));
  }

  canvas.addEventListener("stroke", function () {
    retries = 0;
    schedule();
  });
  canvas.addEventListener("cleared", function () {
    generation += 1;
    waiting = false;
    clearTimeout(timer);
    timer = null;
    box.hidden = true;
  });
})();
