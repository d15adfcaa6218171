/* Organisation pages: swap 422 answers (a form with its field errors) like successes,
   so an in-place edit shows what to correct. Loaded only by the organisation pages. */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.status === 422) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
})();
