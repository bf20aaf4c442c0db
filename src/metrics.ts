import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one process; each application context owns its registry. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'vroegsein_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'vroegsein_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'vroegsein_http_request_duration_seconds',
      help: 'HTTP request duration by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    signals: new Counter({
      name: 'vroegsein_signals_total',
      help: 'Signals received, by outcome (accepted, duplicate, rejected) and partner type',
      labelNames: ['outcome', 'partner_type'] as const,
      registers: [registry],
    }),
    evaluations: new Counter({
      name: 'vroegsein_evaluations_total',
      help: 'Household evaluations, by outcome (task, suppressed, skipped)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    evaluationPending: new Gauge({
      name: 'vroegsein_households_pending_evaluation',
      help: 'Households waiting for evaluation (read at scrape time)',
      registers: [registry],
    }),
    maintenanceRuns: new Counter({
      name: 'vroegsein_maintenance_runs_total',
      help: 'Periodic maintenance ticks by job and outcome (ran, skipped: another replica held the lock, failed)',
      labelNames: ['job', 'outcome'] as const,
      registers: [registry],
    }),
    maintenanceLastSuccess: new Gauge({
      name: 'vroegsein_maintenance_last_success_timestamp_seconds',
      help: 'When this process last completed each maintenance job (Unix time); alert when it falls behind on every replica',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
    tasksOverdue: new Gauge({
      name: 'vroegsein_tasks_overdue',
      help: 'Open tasks whose first contact attempt is overdue, per municipality (set by the escalation run)',
      labelNames: ['municipality'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
