/* global window, document */
// vroegsein pages: small enhancements on top of pages that work without JavaScript.
(function () {
  'use strict';

  // Forms that change something important ask first (data-confirm holds the question).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute('data-confirm')) || (form && form.getAttribute && form.getAttribute('data-confirm'));
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  // After htmx replaced part of the page, move focus to its new heading so keyboard and
  // screen-reader users land on the result instead of at the top of the page.
  document.addEventListener('htmx:after:swap', function () {
    var target = document.querySelector('[data-focus-after-swap]');
    if (target) {
      if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
      target.focus();
    }
  });
})();
