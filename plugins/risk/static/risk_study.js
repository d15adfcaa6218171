// Integrity study page: count the seconds the page was visible and post them with the
// acknowledgement (the server caps them by the time since the page was first opened).
// No third-party script. Loaded by risk/education_task.html.
(function () {
  var form = document.getElementById("study-ack");
  var field = document.getElementById("study-seconds");
  if (!form || !field) { return; }
  var total = 0, since = document.hidden ? null : Date.now();
  function pause() { if (since !== null) { total += Date.now() - since; since = null; } }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { pause(); } else if (since === null) { since = Date.now(); }
  });
  form.addEventListener("submit", function () {
    pause();
    field.value = String(Math.round(total / 1000));
  });
})();
