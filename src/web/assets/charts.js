/* global window, document */
// Draws a chart for every <figure data-chart> from the table inside it: the table is the
// source of the numbers (and stays there for whoever would rather read them).
(function () {
  'use strict';
  if (typeof window.Chart === 'undefined') return;

  // Colours with at least 3:1 contrast against white (WCAG 1.4.11 for graphical objects).
  var PALETTE = ['#154273', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#be185d', '#4d7c0f', '#1d4ed8', '#57534e'];

  function numberOf(cell) {
    var raw = cell.getAttribute('data-value');
    if (raw === null || raw === '') return null;
    var n = Number(raw);
    return isNaN(n) ? null : n;
  }

  function readTable(table) {
    var headers = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent.trim(); });
    var rows = Array.prototype.filter.call(table.querySelectorAll('tbody tr'), function (tr) { return !tr.hasAttribute('data-total'); });
    var labels = rows.map(function (tr) { return tr.cells[0].textContent.trim(); });
    return { headers: headers, rows: rows, labels: labels };
  }

  function draw(figure) {
    var table = figure.querySelector('table');
    var canvas = figure.querySelector('canvas');
    if (!table || !canvas) return;
    var kind = figure.getAttribute('data-chart');
    var columns = (figure.getAttribute('data-series') || '').split(',').filter(Boolean).map(Number);
    var rightAxis = (figure.getAttribute('data-right-axis') || '').split(',').filter(Boolean).map(Number);
    var data = readTable(table);
    var datasets = columns.map(function (col, i) {
      var colour = PALETTE[i % PALETTE.length];
      var onRight = rightAxis.indexOf(col) >= 0;
      return {
        label: data.headers[col],
        data: data.rows.map(function (tr) { return numberOf(tr.cells[col]); }),
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: kind === 'line' ? 3 : 1,
        pointRadius: 4,
        pointStyle: ['circle', 'rect', 'triangle', 'rectRot', 'star', 'cross'][i % 6],
        yAxisID: onRight ? 'y1' : 'y',
        spanGaps: true,
      };
    });
    var horizontal = kind === 'horizontal';
    var scales = {
      x: { stacked: kind === 'stacked', ticks: { color: '#1b1b1b' }, grid: { color: '#d5dae1' } },
      y: { stacked: kind === 'stacked', beginAtZero: true, ticks: { color: '#1b1b1b' }, grid: { color: '#d5dae1' } },
    };
    // Counts of households and tasks: whole numbers on the value axis.
    scales[horizontal ? 'x' : 'y'].ticks.precision = 0;
    var leftTitle = figure.getAttribute('data-left-title');
    var rightTitle = figure.getAttribute('data-right-title');
    if (leftTitle) scales.y.title = { display: true, text: leftTitle, color: '#1b1b1b' };
    if (rightAxis.length > 0) {
      scales.y1 = { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { color: '#1b1b1b', precision: 0 } };
      if (rightTitle) scales.y1.title = { display: true, text: rightTitle, color: '#1b1b1b' };
    }
    new window.Chart(canvas, {
      type: kind === 'line' ? 'line' : 'bar',
      data: { labels: data.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia('(prefers-reduced-motion: reduce)').matches ? false : { duration: 300 },
        plugins: { legend: { display: datasets.length > 1, labels: { color: '#1b1b1b', usePointStyle: true } } },
        scales: scales,
      },
    });
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll('figure[data-chart]'), function (figure) {
      if (figure.getAttribute('data-drawn')) return;
      figure.setAttribute('data-drawn', '1');
      draw(figure);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { drawAll(); });
  else drawAll();
  // Charts that arrive with an htmx swap (a simulation result) are drawn too.
  document.addEventListener('htmx:after:swap', function () { drawAll(); });
})();
