// The shape /metrics renders, shared by the engine's families (metrics-http.ts) and the bridges' (bridge/metrics.ts).

/** One metric family of the Prometheus text format. */
export interface MetricFamily {
  name: string
  help: string
  type: 'counter' | 'gauge'
  samples: Array<{labels?: Record<string, string>; value: number}>
}
