// The job page's map of the validation samples: the slider shows the map of any epoch.
// A map is drawn by the server the first time it is asked for, so the picture follows
// the slider once it rests a moment rather than at every step it passes.
(function () {
  const slider = document.querySelector("[data-embedding-slider]");
  const img = document.querySelector("img[data-embedding]");
  if (!slider || !img) return;
  const output = slider.parentElement.querySelector("output");
  let timer = null;

  function show() {
    timer = null;
    img.src = slider.dataset.embeddingSlider + "?epoch=" + encodeURIComponent(slider.value);
  }

  slider.addEventListener("input", function () {
    if (output) output.textContent = slider.value;
    clearTimeout(timer);
    timer = setTimeout(show, 200);
  });
  slider.addEventListener("change", function () {
    clearTimeout(timer);
    show();
  });
})();
