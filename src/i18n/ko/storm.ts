import type { Catalog } from '../catalog.js';
import type { storm as en } from '../en/storm.js';

/** Korean messages: storm. */
export const storm = {
  'storm.title.active': '🌩️ 알림 폭주: {groups, number}개 그룹에서 알림 {firing, number}개 발생',
  'storm.title.over': '🌤️ 알림 폭주 종료: {duration} 동안 알림 {alerts, number}개',
  'storm.head': '**발생 {firing, number}** · 해결됨 {resolved, number} · 알림 이름 {names, number}개 · {since}부터',
  'storm.severity.critical': '{emoji} 심각 {count, number}',
  'storm.severity.warning': '{emoji} 경고 {count, number}',
  'storm.severity.info': '{emoji} 정보 {count, number}',
  'storm.severity.other': '{emoji} 심각도 없음 {count, number}',
  'storm.allResolved': '✅ 알림 폭주의 모든 알림이 해결되었습니다.',
  'storm.link.grafana': 'Grafana 알림',
  'storm.footer.active': '알림 폭주 모드: 이 채널의 새 알림은 이 메시지에 합쳐집니다 · 모든 알림은 {where, select, thread {스레드} other {답글}}에 있습니다',
  'storm.footer.ended': '알림 폭주 모드 종료 {time} {zone} · 모든 알림은 {where, select, thread {스레드} other {답글}}에 있습니다',
  'storm.thread.name': '알림 폭주 {date} {time} {zone}',
  'storm.details.title': '알림 폭주의 알림 {first, number}–{last, number}',
  'storm.details.head': '{emoji} **{name}**{count} · {since}부터',
  'storm.summary':
    '🌤️ **알림 폭주 종료** ({duration} 만에): 알림 {alerts, number}개, 알림 이름 {names, number}개, **{firing, number}개 계속 발생 중**. 새 인시던트는 다시 각자 메시지로 올라갑니다.',
  'storm.context.title.metrics': '📈 메트릭 추이 · 최근 {window}',
  'storm.context.title.logs': '📜 로그 추이 · 최근 {window}',
  'storm.context.queried.metrics': '{when}에 알림 이름마다 한 번씩, 그 이름의 모든 알림을 함께 조회했습니다.',
  'storm.context.queried.logs': '{when}에 알림 폭주의 모든 로그를 한 번에 조회했습니다.',
  'storm.context.queried.both': '{when}에 알림 이름마다 한 번씩 그 이름의 모든 알림을 함께 조회하고, 알림 폭주의 모든 로그는 한 번에 조회했습니다.',
  'storm.context.name': '{alertname} · {firing, number}개 발생',
  'storm.context.breaching': '지금 시리즈 **{series, number}개 중 {breaching, number}개**가 임계값 초과',
  'storm.context.series': '시리즈 {series, number}개',
  'storm.context.all': '전체',
  'storm.context.peak': '최고: {peaks}',
  'storm.context.logs.name': '📜 {label}별 오류 로그 줄 수',
  'storm.context.logs.found': '**{total}줄** (소스 {sources, number}개 중 {shown, number}개): {top}',
  'storm.context.logs.none': '조회한 {label} 값 {sources, number}개에 오류 로그 없음',
  'storm.context.logs.uncovered': '집계 제외: {label}이(가) 다르거나 없는 발생 중 알림 {count, number}개',
} as const satisfies Catalog<typeof en>;
