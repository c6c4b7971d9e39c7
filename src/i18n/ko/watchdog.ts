import type { Catalog } from '../catalog.js';
import type { watchdog as en } from '../en/watchdog.js';

/** Korean messages: watchdog. */
export const watchdog = {
  'watchdog.summary.prometheus': 'Prometheus 다운',
  'watchdog.summary.prometheusTargets': 'Prometheus가 타깃을 스크레이프하지 않음',
  'watchdog.summary.loki': 'Loki 다운',
  'watchdog.summary.grafana': 'Grafana 다운',
  'watchdog.summary.alertmanager': 'Alertmanager 다운',
  'watchdog.summary.heartbeat': '알림 경로 끊김',
  'watchdog.summary.withError': '{summary}: {error}',
  'watchdog.checks': '{failures, number}회 연속 확인 실패 ({every}마다 확인). 마지막 오류: {error}',
  'watchdog.heartbeat.expected':
    '항상 발생하는 {alertname} 알림(Alertmanager 또는 Grafana)이 {every}마다 한 번 이상 와야 합니다. 알림이 아무에게도 전달되지 않고 있을 수 있습니다.',
  'watchdog.restored': 'Vigil 재시작 전에 발생한 알림입니다.',
  'watchdog.scraping.noTargets': 'Prometheus에 활성 스크레이프 타깃이 없습니다',
  'watchdog.scraping.onlyTarget': 'Prometheus 스크레이프 중단: 유일한 타깃의 스크레이프가 실패했습니다: {targets}',
  'watchdog.scraping.noneOf': 'Prometheus 스크레이프 중단: 타깃 {count, number}개 모두 스크레이프에 실패했습니다: {targets}',
  'watchdog.target.down': '다운',
  'watchdog.target.downWith': '다운 ({error})',
  'watchdog.target.lastScraped': '마지막 스크레이프 {ago} 전',
  'watchdog.heartbeat.missing': '{duration} 동안 {alertname} 하트비트 없음',
  'watchdog.heartbeat.missingSinceStart': 'Vigil 시작({duration} 전) 이후 {alertname} 하트비트 없음',
  'watchdog.unexpected': '예기치 않은 오류: {error}',
} as const satisfies Catalog<typeof en>;
