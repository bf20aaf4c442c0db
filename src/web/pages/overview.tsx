import type { Hono } from 'hono';
import type { TaskView } from '../../api/schemas/task.js';
import { listVisibleTasks, taskListPosition, type TaskListPosition } from '../../db/taskReads.js';
import { PARTNER_TYPE_CODES, TASK_RESULT_CODES } from '../../domain/codes.js';
import { dutchToday, isIsoDate, isoDateOfDay } from '../../domain/dates.js';
import { monitoringSummary, monthsOf, type MonitoringSummary } from '../../services/monitoring.js';
import { MAX_WORK_STOCK_DAYS, workStock } from '../../services/monitorSnapshots.js';
import { toDayNumber } from '../../domain/workingDays.js';
import type { WebContext, WebEnv } from '../env.js';
import { WebError } from '../errors.js';
import { formatDate, formatDecimal, formatMonth, formatNumber, formatPercent, partnerTypeLabel, resultLabel } from '../labels.js';
import { Notice, Page, render, TableWrap } from '../layout.js';
import { auditRead, requireRole } from '../support.js';

/**
 * "Overzicht" for the coordinator: charts of what came in and what outreach achieved — signals
 * per partner type per month, reach rate and first-contact time per month, the results, and
 * overdue tasks per team — each with the table of its numbers and a CSV download. The figures
 * are the API's monitoring summary (GET /v1/monitoring/summary) and task list, same scope.
 */

const MAX_MONTHS = 24;

interface Table {
  id: string;
  title: string;
  /** Header of the first (label) column, then of each value column. */
  columns: string[];
  rows: { label: string; values: (number | null)[] }[];
  /** How each value column is shown in the table (the chart and the CSV use the raw value). */
  format: ((value: number | null) => string)[];
}

interface Figure {
  table: Table;
  chart: 'stacked' | 'line' | 'horizontal' | 'bar';
  /** Value columns drawn (1-based, as table columns), and those on the right axis. */
  series: number[];
  rightAxis?: number[];
  leftTitle?: string;
  rightTitle?: string;
  description: string;
  empty: string;
}

interface Period {
  from: string;
  to: string;
}

function firstOfMonth(date: string, monthsBack: number): string {
  const d = new Date(`${date.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() - monthsBack);
  return d.toISOString().slice(0, 10);
}

function lastOfMonth(month: string): string {
  const d = new Date(`${month}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  d.setUTCDate(0);
  return d.toISOString().slice(0, 10);
}

/** The period asked for, or the last six months up to today. */
function periodOf(c: WebContext): Period {
  const today = dutchToday(c.get('ctx').now());
  const from = c.req.query('from') ?? '';
  const to = c.req.query('to') ?? '';
  const period = { from: isIsoDate(from) ? from : firstOfMonth(today, 5), to: isIsoDate(to) ? to : today };
  if (period.from > period.to) throw new WebError(400, 'De begindatum ligt na de einddatum.');
  if (monthsOf(period.from, period.to).length > MAX_MONTHS) throw new WebError(400, `Kies een periode van ten hoogste ${MAX_MONTHS} maanden.`);
  return period;
}

const count = (n: number | null) => (n === null ? '—' : formatNumber(n));
const pct = (n: number | null) => (n === null ? '—' : formatPercent(n / 100));
const days = (n: number | null) => formatDecimal(n);

/** Signals per partner type per month: one monitoring summary per month, by partner type. */
async function signalsPerPartnerType(c: WebContext, period: Period): Promise<Table> {
  const ctx = c.get('ctx');
  const actor = c.get('actor');
  const months = monthsOf(period.from, period.to);
  const perMonth = await Promise.all(
    months.map((month) => {
      const from = `${month}-01` < period.from ? period.from : `${month}-01`;
      const to = lastOfMonth(month) > period.to ? period.to : lastOfMonth(month);
      return monitoringSummary(ctx, actor, { from, to, groupBy: 'partnerType' });
    }),
  );
  const totals = new Map<string, number>();
  for (const summary of perMonth) for (const row of summary.rows) totals.set(row.group ?? '', (totals.get(row.group ?? '') ?? 0) + row.signals);
  // Only the partner types that sent anything: eleven empty columns help nobody.
  const types = PARTNER_TYPE_CODES.filter((type) => (totals.get(type) ?? 0) > 0);
  return {
    id: 'signals-by-partner-type',
    title: 'Signalen per soort schuldeiser per maand',
    columns: ['Maand', ...types.map((type) => partnerTypeLabel(type))],
    rows: months.map((month, i) => ({
      label: formatMonth(month),
      values: types.map((type) => perMonth[i]!.rows.find((r) => r.group === type)?.signals ?? 0),
    })),
    format: types.map(() => count),
  };
}

function reachPerMonth(monthly: MonitoringSummary): Table {
  return {
    id: 'reach',
    title: 'Bereik en tijd tot eerste contact per maand',
    columns: ['Maand', 'Bereikt (%)', 'Mediaan werkdagen tot eerste contact', 'Afgesloten taken', 'Waarvan bereikt', 'Eerste contactpogingen', '90% binnen (werkdagen)'],
    rows: monthly.rows.map((row) => ({
      label: formatMonth(row.group ?? ''),
      values: [
        row.reachRate === null ? null : Math.round(row.reachRate * 1000) / 10,
        row.medianWorkingDaysToFirstAttempt,
        row.tasksClosed,
        row.tasksClosedReached,
        row.firstAttempts,
        row.p90WorkingDaysToFirstAttempt,
      ],
    })),
    format: [pct, days, count, count, count, days],
  };
}

function resultDistribution(monthly: MonitoringSummary): Table {
  const results = monthly.total.results.filter((r) => r.tasks > 0);
  results.sort((a, b) => b.tasks - a.tasks || TASK_RESULT_CODES.indexOf(a.result) - TASK_RESULT_CODES.indexOf(b.result));
  return {
    id: 'results',
    title: 'Resultaten van afgesloten taken',
    columns: ['Resultaat', 'Taken'],
    rows: results.map((r) => ({ label: resultLabel(r.result), values: [r.tasks] })),
    format: [count],
  };
}

/** Overdue tasks per team now: the API's task list with overdue=true, counted per team. */
async function overduePerTeam(c: WebContext): Promise<Table> {
  const counts = new Map<string, number>();
  let after: TaskListPosition | null = null;
  // Overdue tasks are few (they are escalated and worked first); the loop is bounded anyway.
  for (let page = 0; page < 20; page++) {
    const tasks: TaskView[] = await listVisibleTasks(c.get('ctx').pool, c.get('actor'), { overdue: true, limit: 500, after });
    for (const task of tasks) counts.set(task.team ?? '(geen team)', (counts.get(task.team ?? '(geen team)') ?? 0) + 1);
    const last = tasks[tasks.length - 1];
    if (tasks.length < 500 || !last) break;
    after = taskListPosition(last);
  }
  return {
    id: 'overdue',
    title: 'Te late taken per team (nu)',
    columns: ['Team', 'Te late taken'],
    rows: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([team, n]) => ({ label: team, values: [n] })),
    format: [count],
  };
}

/** The daily snapshots of the period (its last MAX_WORK_STOCK_DAYS days), summed over the teams. */
async function workStockPerDay(c: WebContext, period: Period): Promise<Table> {
  const earliest = isoDateOfDay(toDayNumber(period.to) - (MAX_WORK_STOCK_DAYS - 1));
  const stock = await workStock(c.get('ctx'), c.get('actor'), { from: period.from > earliest ? period.from : earliest, to: period.to });
  const byDay = new Map<string, [number, number, number]>();
  for (const day of stock.days) {
    const sums = byDay.get(day.date) ?? [0, 0, 0];
    sums[0] += day.tasksOpen;
    sums[1] += day.tasksClaimed;
    sums[2] += day.tasksOverdue;
    byDay.set(day.date, sums);
  }
  return {
    id: 'work-stock',
    title: 'Werkvoorraad aan het eind van de dag',
    columns: ['Dag', 'Open', 'In behandeling', 'Te laat'],
    rows: [...byDay].sort((a, b) => a[0].localeCompare(b[0])).map(([date, values]) => ({ label: formatDate(date), values })),
    format: [count, count, count],
  };
}

async function overview(c: WebContext, period: Period): Promise<Figure[]> {
  const monthly = await monitoringSummary(c.get('ctx'), c.get('actor'), { ...period, groupBy: 'month' });
  const [partners, overdue, stock] = await Promise.all([signalsPerPartnerType(c, period), overduePerTeam(c), workStockPerDay(c, period)]);
  return [
    {
      table: partners,
      chart: 'stacked',
      series: partners.columns.slice(1).map((_, i) => i + 1),
      description: 'Hoeveel signalen er per maand binnenkwamen, gestapeld per soort schuldeiser.',
      empty: 'Geen signalen in deze periode.',
    },
    {
      table: reachPerMonth(monthly),
      chart: 'line',
      series: [1, 2],
      rightAxis: [2],
      leftTitle: 'Bereikt (%)',
      rightTitle: 'Werkdagen',
      description: 'Welk deel van de afgesloten taken de inwoner bereikte, en hoeveel werkdagen het eerste contact na het eerste signaal duurde (mediaan).',
      empty: 'Geen maanden in deze periode.',
    },
    {
      table: resultDistribution(monthly),
      chart: 'horizontal',
      series: [1],
      description: 'Met welk resultaat de taken in deze periode zijn afgesloten.',
      empty: 'Geen afgesloten taken in deze periode.',
    },
    {
      table: overdue,
      chart: 'bar',
      series: [1],
      description: 'Open taken waarvan de termijn voor het eerste contact verstreken is, per team.',
      empty: 'Geen te late taken. Mooi.',
    },
    {
      table: stock,
      chart: 'line',
      series: [1, 2, 3],
      leftTitle: 'Taken',
      description: 'Hoeveel taken aan het eind van elke dag open, in behandeling en te laat waren (de dagelijkse momentopname, alle teams samen).',
      empty: 'Nog geen momentopnamen in deze periode: ze worden elke avond gemaakt.',
    },
  ];
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  // A cell a spreadsheet would read as a formula gets an apostrophe (team names are free text).
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(table: Table): string {
  const lines = [table.columns.map(csvCell).join(','), ...table.rows.map((row) => [row.label, ...row.values].map(csvCell).join(','))];
  return lines.join('\r\n') + '\r\n';
}

function ChartFigure(props: { figure: Figure; period: Period }) {
  const { figure, period } = props;
  const { table } = figure;
  const csvHref = `/web/overview/csv/${table.id}?from=${period.from}&to=${period.to}`;
  return (
    <figure
      class="chart"
      data-chart={figure.chart}
      data-series={figure.series.join(',')}
      data-right-axis={figure.rightAxis?.join(',')}
      data-left-title={figure.leftTitle}
      data-right-title={figure.rightTitle}
      aria-labelledby={`${table.id}-title`}
    >
      <figcaption id={`${table.id}-title`}>{table.title}</figcaption>
      <p class="hint">{figure.description}</p>
      {table.rows.length === 0 || table.columns.length < 2 ? (
        <p>{figure.empty}</p>
      ) : (
        <>
          <div class="chart-canvas">
            <canvas role="img" aria-label={`Grafiek: ${table.title}. De getallen staan in de tabel eronder.`}></canvas>
          </div>
          <details open={table.rows.length <= 8}>
            <summary>De getallen</summary>
            <TableWrap label={table.title}>
              <table>
                <thead>
                  <tr>
                    {table.columns.map((column, i) => (
                      <th scope="col" class={i > 0 ? 'num' : undefined}>
                        {column}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {table.rows.map((row) => (
                    <tr>
                      <th scope="row">{row.label}</th>
                      {row.values.map((value, i) => (
                        <td class="num" data-value={value === null ? '' : String(value)}>
                          {table.format[i]!(value)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </details>
        </>
      )}
      <p>
        <a href={csvHref} download={`${table.id}-${period.from}-${period.to}.csv`}>
          Download als CSV<span class="visually-hidden">: {table.title}</span>
        </a>
      </p>
    </figure>
  );
}

export function registerOverviewPages(web: Hono<WebEnv>): void {
  web.get('/overview', async (c) => {
    requireRole(c, 'coordinator', 'admin');
    const actor = c.get('actor');
    let period: Period;
    let error: string | null = null;
    try {
      period = periodOf(c);
    } catch (e) {
      if (!(e instanceof WebError)) throw e;
      error = e.message;
      period = { from: firstOfMonth(dutchToday(c.get('ctx').now()), 5), to: dutchToday(c.get('ctx').now()) };
    }
    const figures = await overview(c, period);
    await auditRead(c, { action: 'monitoring.read', objectType: 'monitoring-summary', objectId: `${period.from}..${period.to} overview`, municipality: actor.municipality });
    return render(
      c,
      <Page title="Overzicht" actor={actor} csrf={c.get('session').csrfSecret} current="/web/overview" scripts={['chart.umd.min.js', 'charts.js']}>
        <h1>Overzicht</h1>
        {error && <Notice kind="error">{error}</Notice>}
        <form method="get" action="/web/overview" class="filters" aria-label="Periode">
          <div class="field">
            <label for="period-from">Van</label>
            <input id="period-from" name="from" type="date" value={period.from} required />
          </div>
          <div class="field">
            <label for="period-to">Tot en met</label>
            <input id="period-to" name="to" type="date" value={period.to} required />
          </div>
          <button type="submit">Toon</button>
        </form>
        <p>
          Periode: {formatDate(period.from)} tot en met {formatDate(period.to)}
          {actor.municipality ? `, gemeente ${actor.municipality}` : ', alle gemeenten'}.
        </p>
        <div class="charts">
          {figures.map((figure) => (
            <ChartFigure figure={figure} period={period} />
          ))}
        </div>
      </Page>,
      error ? 400 : 200,
    );
  });

  web.get('/overview/csv/:table', async (c) => {
    requireRole(c, 'coordinator', 'admin');
    const period = periodOf(c);
    const figure = (await overview(c, period)).find((f) => f.table.id === c.req.param('table'));
    if (!figure) throw new WebError(404, 'Deze tabel bestaat niet.');
    await auditRead(c, { action: 'monitoring.export', objectType: 'monitoring-summary', objectId: `${period.from}..${period.to} ${figure.table.id}`, municipality: c.get('actor').municipality });
    return c.body(toCsv(figure.table), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${figure.table.id}-${period.from}-${period.to}.csv"`,
      'Cache-Control': 'no-store',
    });
  });
}
