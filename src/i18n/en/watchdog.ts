/** English messages: watchdog. Keys start with `watchdog.`; values are ICU MessageFormat. */
export const watchdog = {
  // Each component's outage alert (watchdog/alerts.ts): summary and description annotations.
  'watchdog.summary.prometheus': 'Prometheus is down',
  'watchdog.summary.prometheusTargets': 'Prometheus is not scraping its targets',
  'watchdog.summary.loki': 'Loki is down',
  'watchdog.summary.grafana': 'Grafana is down',
  'watchdog.summary.alertmanager': 'Alertmanager is down',
  'watchdog.summary.heartbeat': 'The alerting path is broken',
  'watchdog.summary.withError': '{summary}: {error}',
  'watchdog.checks': '{failures, plural, one {# failed check} other {# failed checks}} in a row (every {every}). Last error: {error}',
  'watchdog.heartbeat.expected':
    'The always-firing {alertname} alert (from Alertmanager or Grafana) must arrive at least every {every}: alerts may not be reaching anyone.',
  'watchdog.restored': 'Raised before Vigil restarted.',
  // What a check found (watchdog/probes.ts, watchdog/index.ts): shown as the outage's error.
  'watchdog.scraping.noTargets': 'Prometheus has no active scrape targets',
  'watchdog.scraping.onlyTarget': 'Prometheus is not scraping: its only target was not scraped successfully: {targets}',
  'watchdog.scraping.noneOf': 'Prometheus is not scraping: none of {count, plural, one {# target} other {# targets}} scraped successfully: {targets}',
  'watchdog.target.down': 'down',
  'watchdog.target.downWith': 'down ({error})',
  'watchdog.target.lastScraped': 'last scraped {ago} ago',
  'watchdog.heartbeat.missing': 'no {alertname} heartbeat for {duration}',
  'watchdog.heartbeat.missingSinceStart': 'no {alertname} heartbeat since Vigil started {duration} ago',
  'watchdog.unexpected': 'unexpected error: {error}',
} as const;
