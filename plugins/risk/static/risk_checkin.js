// Site check-in: read the browser's position and post it with the form (no map, no
// third-party script). Loaded by risk/checkin.html.
(function () {
  var button = document.getElementById("checkin-button");
  if (!button) { return; }
  var status = document.getElementById("checkin-status");
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = status.dataset.denied; return; }
    status.textContent = status.dataset.locating;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("checkin-lat").value = pos.coords.latitude.toFixed(7);
      document.getElementById("checkin-lon").value = pos.coords.longitude.toFixed(7);
      document.getElementById("checkin-acc").value = Math.round(pos.coords.accuracy || 0);
      document.getElementById("checkin-form").submit();
    }, function () {
      status.textContent = status.dataset.denied;
      button.disabled = false;
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  });
})();
