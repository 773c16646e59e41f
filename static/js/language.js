// The language menu switches as soon as a language is picked; without scripts its
// button does the same.
(function () {
  const form = document.querySelector("form.language");
  if (!form) return;
  form.querySelector("button").hidden = true;
  form.elements.language.addEventListener("change", function () { form.submit(); });
})();
