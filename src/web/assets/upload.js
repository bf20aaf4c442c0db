/* global window, document, XMLHttpRequest, DOMParser, FormData */
// Upload with a progress bar. Without JavaScript the form posts as usual; with it, the file is
// sent with XMLHttpRequest (fetch cannot report upload progress) and the server's answer shown.
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || typeof FormData === 'undefined') return;
  var box = document.getElementById('upload-progress');
  var bar = document.getElementById('upload-bar');
  var text = document.getElementById('upload-status');
  var button = form.querySelector('button[type="submit"]');

  function megabytes(n) { return (n / 1048576).toLocaleString('nl-NL', { maximumFractionDigits: 1 }) + ' MB'; }

  form.addEventListener('submit', function (event) {
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files || input.files.length === 0) return; // the browser's own check
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'text/html');
    box.hidden = false;
    button.disabled = true;
    bar.value = 0;
    text.textContent = 'Bezig met versturen…';
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) return;
      bar.max = e.total;
      bar.value = e.loaded;
      text.textContent = e.loaded < e.total
        ? 'Verstuurd: ' + megabytes(e.loaded) + ' van ' + megabytes(e.total)
        : 'Verstuurd. De regels worden gecontroleerd en opgeslagen…';
    });
    xhr.addEventListener('load', function () {
      var url = xhr.responseURL || '';
      // Success ends on the batch page (after the server's redirect): go there for real.
      if (url && url.split('#')[0] !== form.action) {
        window.location.assign(url);
        return;
      }
      // An error page: show its content in place.
      var doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      var main = doc.querySelector('main');
      if (main) {
        document.querySelector('main').innerHTML = main.innerHTML;
        document.title = doc.title;
        document.querySelector('main').focus();
      }
    });
    xhr.addEventListener('error', function () {
      text.textContent = 'Het versturen is mislukt. Controleer de verbinding en probeer het opnieuw.';
      button.disabled = false;
    });
    xhr.send(new FormData(form));
  });
})();
