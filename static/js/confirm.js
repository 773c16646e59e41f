// A button marked data-confirm asks first ("Cancel this training job?"), and its form is
// sent only if the reader says yes. Without JavaScript the form is sent at once, as
// before. Listened for on the way down, so that no other script acts on a declined form.
(function () {
  document.addEventListener(
    "submit",
    function (event) {
      const button = event.submitter;
      const question = button && button.dataset.confirm;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true,
  );
})();
