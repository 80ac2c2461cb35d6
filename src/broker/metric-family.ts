// The shape /metrics renders, shared by the engine's families (metrics-http.ts) and the bridges' (bridge/metrics.ts).

/** One metric family of the Prometheus text format. */
export interface MetricFamily {
  name: string
  help: string
  type: 'counter' | 'gauge'
  samples: Array<{labels?: Record<string, string>; value: number}>
}

/** A family of one unlabelled gauge sample. */
export function gauge(name: string, help: string, value: number): MetricFamily {
  return {name, help, type: 'gauge', samples: [{value}]}
}

/** A family of one unlabelled counter sample. */
export function counter(name: string, help: string, value: number): MetricFamily {
  return {name, help, type: 'counter', samples: [{value}]}
}
