import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { boundedClient, breakerClient } from './calls.js';
import { ruleLookupFromConfig, type RuleLookup } from './grafana.js';
import { createLokiClient, type LokiClient } from './loki.js';
import { createPrometheusClient, type PrometheusClient } from './prometheus.js';

/**
 * The Prometheus and Loki clients everything shares (alerts, storms, commands), and the Grafana rule
 * lookup of alerts from Grafana, as `vigil serve` builds them: each call bounded by `enrichment.timeout`; at most `enrichment.maxConcurrentQueries`
 * in flight per backend (a call that cannot start within the timeout fails as one, never reaching the
 * backend late); and a backend that keeps timing out is not asked until a probe answers
 * (breakerClient), so its timeouts never add up.
 */
export function backendClients(
  config: Pick<Config, 'prometheus' | 'loki' | 'enrichment' | 'grafana'>,
  deps: { logger: Logger; now?: () => Date },
): { prometheus: PrometheusClient; loki: LokiClient; rules: RuleLookup | undefined } {
  const { timeout, maxConcurrentQueries } = config.enrichment;
  const breaker = (name: string) => ({
    name,
    timeoutMs: timeout,
    ...(deps.now ? { now: deps.now } : {}),
    events: {
      down: (since: Date) => deps.logger.warn({ backend: name, since: since.toISOString() }, 'backend not answering: not queried until a probe answers'),
      up: (downForMs: number) => deps.logger.info({ backend: name, downForMs }, 'backend answers again'),
    },
  });
  return {
    prometheus: boundedClient(
      breakerClient(createPrometheusClient({ url: config.prometheus.url, timeoutMs: timeout }), breaker('Prometheus')),
      maxConcurrentQueries,
      timeout,
    ),
    loki: boundedClient(breakerClient(createLokiClient({ url: config.loki.url, timeoutMs: timeout }), breaker('Loki')), maxConcurrentQueries, timeout),
    // Rule lookups are cached per rule (grafana.ruleCacheTtl); a hung Grafana is skipped like a hung Loki.
    rules: ruleLookupFromConfig(config.grafana, timeout, (client) => boundedClient(breakerClient(client, breaker('Grafana')), maxConcurrentQueries, timeout)),
  };
}
