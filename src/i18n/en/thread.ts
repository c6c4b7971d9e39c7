/** English messages: thread. Keys start with `thread.`; values are ICU MessageFormat. */
export const thread = {
  // The thread's name and each alert's embed title (render/thread.ts).
  'thread.name.where': '{name} on {where}',
  'thread.title': '🔎 {name}',
  'thread.title.where': '🔎 {name} on {where}',
  'thread.noDetails': '🔎 No details: the alerts were not enriched.',
  'thread.moreAlerts': '{count, plural, one {# more alert} other {# more alerts}} without details here',
  'thread.unavailable': '⚠️ {what} unavailable: {message}',
  // What a failure was about.
  // Field names.
  'thread.field.rule': 'Grafana rule',
  'thread.field.expression': 'Expression',
  'thread.field.extra': 'Extra (vigil_promql)',
  'thread.field.host': 'Host {instance}',
  'thread.field.containers': 'Containers on {host}',
  'thread.field.logVolume': 'Log volume',
  // {lines} comes formatted ("1,234", "5,000+"): the plural picks `one` for "1" and `other` for anything else.
  'thread.field.patterns': 'Log patterns ({distinct, number} distinct in {lines, plural, one {{lines} line} other {{lines} lines}})',
  'thread.field.logLines': 'Log lines ({count})',
  'thread.field.logLinesZone': 'Log lines ({count}, {zone})',
  'thread.field.explore': 'Explore',
  // The expression's series.
  'thread.expression.threshold': '(threshold {op} {value})',
  'thread.series.value': 'value',
  'thread.series.peak': 'peak {value}',
  'thread.series.peakAt': 'peak {value} at {at}',
  // The Grafana rule.
  'thread.rule.fires': '{title}: fires when {condition}',
  'thread.rule.firesFor': '{title}: fires when {condition} for {for}',
  'thread.rule.folder': 'folder {folder}',
  'thread.rule.group': 'group {group}',
  'thread.rule.notQueried': 'not queried: {queries}',
  // Host and container context.
  'thread.host.cpu': 'cpu',
  'thread.host.memory': 'memory',
  'thread.host.disk': 'disk',
  'thread.host.diskAt': 'disk {mountpoint}',
  'thread.host.load': 'load',
  'thread.host.line': '{what}: {now} (1h before {before})',
  'thread.host.perCore': '{value}/core',
  'thread.host.none': 'n/a',
  'thread.container.cpu': 'CPU: {list}',
  'thread.container.memory': 'Memory: {list}',
  'thread.container.oom': '⚠️ {name}: OOM killed ×{count, number}',
  'thread.container.restart': '⚠️ {name}: restarted ×{count, number}',
  'thread.container.none': 'no containers found',
  // Logs.
  'thread.volume.line': '{level}: {count, plural, one {# line} other {# lines}}{ratio}',
  'thread.volume.ratio': '({ratio}x the usual rate)',
  'thread.volume.noneBefore': '(none the hour before)',
  'thread.volume.noLevel': 'no level',
  'thread.volume.none': 'no lines',
  'thread.patterns.example': 'e.g. {example}',
  'thread.patterns.none': 'no patterns',
  'thread.logs.none': 'no matching lines',
} as const;
