// The render form's augmentation preview follows the chosen style.
(function () {
  const preview = document.getElementById("style-preview");
  if (!preview) return;
  document.querySelectorAll('input[name="style"]').forEach(function (choice) {
    choice.addEventListener("change", function () {
      preview.src = preview.dataset.src + "?style=" + encodeURIComponent(choice.value);
    });
  });
})();
