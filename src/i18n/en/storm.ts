/** English messages: storm. Keys start with `storm.`; values are ICU MessageFormat. */
export const storm = {
  // The storm message (render/storm.ts renderStormMessage).
  'storm.title.active': '🌩️ Alert storm: {firing, plural, one {# alert} other {# alerts}} firing in {groups, plural, one {# group} other {# groups}}',
  'storm.title.over': '🌤️ Alert storm over: {alerts, plural, one {# alert} other {# alerts}} in {duration}',
  'storm.head': '**{firing, number} firing** · {resolved, number} resolved · {names, plural, one {# alert name} other {# alert names}} · since {since}',
  'storm.severity.critical': '{emoji} {count, number} critical',
  'storm.severity.warning': '{emoji} {count, number} warning',
  'storm.severity.info': '{emoji} {count, number} info',
  'storm.severity.other': '{emoji} {count, number} no severity',
  'storm.allResolved': '✅ Every alert of the storm is resolved.',
  'storm.link.grafana': 'Grafana alerts',
  'storm.footer.active':
    'Storm mode: new alerts in this channel join this message · every alert is named in the {where, select, thread {thread} other {replies}}',
  'storm.footer.ended': 'Storm mode ended {time} {zone} · every alert is named in the {where, select, thread {thread} other {replies}}',
  // Its thread, details and closing summary.
  'storm.thread.name': 'Alert storm {date} {time} {zone}',
  'storm.details.title': 'Storm alerts {first, number}–{last, number}',
  'storm.details.head': '{emoji} **{name}**{count} · since {since}',
  'storm.summary':
    '🌤️ **Storm over** after {duration}: {alerts, plural, one {# alert} other {# alerts}} in {names, plural, one {# name} other {# names}}, **{firing, number} still firing**. New incidents get their own message again.',
  // What the metrics and logs did (render/storm-context.ts).
  'storm.context.title.metrics': '📈 What the metrics did · last {window}',
  'storm.context.title.logs': '📜 What the logs did · last {window}',
  'storm.context.queried.metrics': 'Queried once per alert name for all its alerts, {when}.',
  'storm.context.queried.logs': "Queried once for all the storm's logs, {when}.",
  'storm.context.queried.both': "Queried once per alert name for all its alerts, and once for all the storm's logs, {when}.",
  'storm.context.name': '{alertname} · {firing, number} firing',
  'storm.context.breaching': '**{breaching, number} of {series, number}** series past it now',
  'storm.context.series': '{series, number} series',
  'storm.context.all': 'all',
  'storm.context.peak': 'Peak: {peaks}',
  'storm.context.logs.name': '📜 Error log lines by {label}',
  // {total} comes formatted ("1.2k"): the plural picks `one` for "1" and `other` for anything else.
  'storm.context.logs.found': '{total, plural, one {**{total} line**} other {**{total} lines**}} from {shown, number} of {sources, number}: {top}',
  'storm.context.logs.none':
    '{sources, plural, one {no error lines from the # {label} value asked about} other {no error lines from the # {label} values asked about}}',
  'storm.context.logs.uncovered': 'Not counted: {count, plural, one {# firing alert} other {# firing alerts}} with another {label} or none',
} as const;
