/* Qinglian page behaviour. No inline script anywhere: the CSP forbids it. */
(function () {
  "use strict";
  // Show server errors of HTMX requests in place instead of failing silently.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var target = evt.detail.target;
    if (xhr && xhr.status >= 400 && xhr.status < 500 && xhr.responseText && target) {
      // 4xx answers carry a rendered error fragment: swap it into the target.
      target.innerHTML = xhr.responseText;
    }
  });
  document.addEventListener("htmx:sendError", function () {
    document.body.classList.add("offline");
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    document.body.classList.remove("offline");
    // Forms marked data-clear-secrets (the public lookup, used at kiosks in the service
    // hall) forget what was typed into their data-secret fields once answered.
    var form = evt.detail.elt;
    if (form && form.matches && form.matches("form[data-clear-secrets]")) {
      form.querySelectorAll("[data-secret]").forEach(function (input) { input.value = ""; });
    }
  });
  // A form on a page a shared cache keeps (data-csrf-fetch) carries no token of its own:
  // fetch this visitor's token when it is submitted, then submit it with the token.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.matches || !form.matches("form[data-csrf-fetch]")) { return; }
    if (form.querySelector("input[name=csrf_token]")) { return; }
    evt.preventDefault();
    var submitter = evt.submitter;
    fetch(form.getAttribute("data-csrf-fetch"), {credentials: "same-origin",
                                                 headers: {"Accept": "application/json"}})
      .then(function (resp) { return resp.json(); })
      .then(function (data) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "csrf_token";
        input.value = data.token;
        form.appendChild(input);
        if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
      });
  });
  // A button marked data-print prints the page (its print stylesheet keeps the document).
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-print]");
    if (button) { window.print(); }
  });
})();
